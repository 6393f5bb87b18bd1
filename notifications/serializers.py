"""Serializers of the notifications API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import StrictModelSerializer, StrictSerializer

from .models import Category, DigestFrequency, Notification


class NotificationSerializer(StrictModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "category", "title", "body", "link", "data", "is_read", "read_at", "created_at"]
        read_only_fields = fields

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationListQuerySerializer(StrictSerializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


class UnreadCountSerializer(StrictSerializer):
    count = serializers.IntegerField()


class ReadAllSerializer(StrictSerializer):
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_null=True)


class ReadAllResultSerializer(StrictSerializer):
    updated = serializers.IntegerField()


class ChannelsUpdateSerializer(StrictSerializer):
    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)


class CategoriesUpdateSerializer(StrictSerializer):
    security = ChannelsUpdateSerializer(required=False)
    project = ChannelsUpdateSerializer(required=False)
    billing = ChannelsUpdateSerializer(required=False)
    assistant = ChannelsUpdateSerializer(required=False)
    product = ChannelsUpdateSerializer(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown category."] for key in sorted(unknown)})
        return super().to_internal_value(data)


class PreferencesUpdateSerializer(StrictSerializer):
    """A PUT is partial: what is left out keeps its value."""

    categories = CategoriesUpdateSerializer(required=False)
    digest_frequency = serializers.ChoiceField(choices=DigestFrequency.choices, required=False)


# The answer always carries every category, channel and the digest frequency.
class ChannelsSerializer(serializers.Serializer):
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()
    locked = serializers.BooleanField(help_text="The category's channels cannot be turned off.")


class CategoriesSerializer(serializers.Serializer):
    security = ChannelsSerializer()
    project = ChannelsSerializer()
    billing = ChannelsSerializer()
    assistant = ChannelsSerializer()
    product = ChannelsSerializer()


class PreferencesSerializer(serializers.Serializer):
    categories = CategoriesSerializer()
    digest_frequency = serializers.ChoiceField(choices=DigestFrequency.choices)


class UnsubscribeResultSerializer(StrictSerializer):
    category = serializers.CharField()
    subscribed = serializers.BooleanField()
    email = serializers.CharField(help_text="The address, masked.")
