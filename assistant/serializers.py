"""Input validation and output shapes of the assistant API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictModelSerializer, StrictSerializer

from .models import Conversation, Message


class UsageSerializer(StrictSerializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cache_read_input_tokens = serializers.IntegerField()
    cache_creation_input_tokens = serializers.IntegerField()


def message_usage(message: Message) -> dict[str, int]:
    return {
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "cache_read_input_tokens": message.cache_read_tokens,
        "cache_creation_input_tokens": message.cache_creation_tokens,
    }


class MessageSerializer(StrictModelSerializer):
    usage = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "content",
            "status",
            "error_code",
            "cached",
            "model",
            "usage",
            "latency_ms",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(UsageSerializer)
    def get_usage(self, obj: Message) -> dict[str, int]:
        return message_usage(obj)


class ReplySerializer(StrictModelSerializer):
    """The 201 answer of a send: the assistant's reply."""

    usage = serializers.SerializerMethodField()
    conversation = serializers.UUIDField(source="conversation_id", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "role", "content", "usage", "cached", "model", "stop_reason", "conversation", "created_at"]
        read_only_fields = fields

    @extend_schema_field(UsageSerializer)
    def get_usage(self, obj: Message) -> dict[str, int]:
        return message_usage(obj)


class ConversationSerializer(StrictModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True, allow_null=True)
    message_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Conversation
        fields = ["id", "title", "project", "message_count", "created_at", "updated_at"]
        read_only_fields = fields


class ConversationDetailSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, obj: Conversation) -> Any:
        return MessageSerializer(self.context.get("messages", []), many=True).data


class ConversationCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    project = serializers.UUIDField(required=False, allow_null=True, default=None)


class ConversationRenameSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200, allow_blank=False, trim_whitespace=True)


class MessageCreateSerializer(StrictSerializer):
    # The length limit (ASSISTANT_MESSAGE_MAX_CHARS) is checked by the service: 400 message_too_long.
    content = serializers.CharField(trim_whitespace=True, allow_blank=False)


class ConversationFilterSerializer(StrictSerializer):
    project = serializers.UUIDField(required=False, allow_null=True, default=None)


class UsageSummarySerializer(StrictSerializer):
    month = serializers.CharField()
    tokens_used = serializers.IntegerField()
    tokens_limit = serializers.IntegerField()
    tokens_reserved = serializers.IntegerField()
    tokens_remaining = serializers.IntegerField()
    percent_used = serializers.FloatField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cache_read_input_tokens = serializers.IntegerField()
    cache_creation_input_tokens = serializers.IntegerField()
    estimated_cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6, coerce_to_string=True)
    requests = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
