"""Serializers of the notifications API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .models import Category, DigestFrequency, Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "category", "title", "body", "link", "data", "is_read", "read_at", "created_at"]
        read_only_fields = fields

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationListQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_null=True)


class ReadAllResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


class ChannelsSerializer(serializers.Serializer):
    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    locked = serializers.BooleanField(read_only=True)


class CategoriesSerializer(serializers.Serializer):
    security = ChannelsSerializer(required=False)
    project = ChannelsSerializer(required=False)
    billing = ChannelsSerializer(required=False)
    assistant = ChannelsSerializer(required=False)
    product = ChannelsSerializer(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown category."] for key in sorted(unknown)})
        return super().to_internal_value(data)


class PreferencesSerializer(serializers.Serializer):
    categories = CategoriesSerializer(required=False)
    digest_frequency = serializers.ChoiceField(choices=DigestFrequency.choices, required=False)


class UnsubscribeResultSerializer(serializers.Serializer):
    category = serializers.CharField()
    subscribed = serializers.BooleanField()
    email = serializers.CharField(help_text="The address, masked.")
