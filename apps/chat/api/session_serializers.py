"""Input and output shapes of the chat stream dialect (`/v1/chat/...`, `/api/chat/...`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.chat.models import Attachment, Chat, Message, MessageRole, Prompt

MAX_PAGE_SIZE = 100


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "format": "uuid"}]})
class SessionRefField(serializers.Field):
    """A chat session: its per-company number (as the dialect shows it) or its UUID."""

    default_error_messages = {"invalid": "Must be a session number or a chat UUID."}

    def to_internal_value(self, data: Any) -> Any:
        from apps.chat.selectors import chat_ref_filter

        if chat_ref_filter(data) is None:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StreamMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MessageRole.choices)
    content = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=100_000)


class StreamInputSerializer(serializers.Serializer):
    """`POST /v1/chat/stream`: the last message is the user's new one."""

    model = serializers.CharField(max_length=200)
    messages = StreamMessageSerializer(many=True, allow_empty=False, max_length=500)  # type: ignore[call-arg]
    temperature = serializers.FloatField(min_value=0.0, max_value=2.0, required=False)
    max_tokens = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    stream = serializers.BooleanField(required=False, default=True)
    session_id = SessionRefField(required=False, allow_null=True, default=None)

    def validate_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if messages[-1]["role"] != "user" or not messages[-1]["content"].strip():
            raise serializers.ValidationError("The last message must be the user's, with content.")
        return messages


class SwitchModelSerializer(serializers.Serializer):
    session_id = SessionRefField()
    model = serializers.CharField(max_length=200)


def _moment(value: str, *, end: bool) -> dt.datetime:
    """An ISO date or date-time; a date alone means its start (or, for an end, its last moment); UTC if naive."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise serializers.ValidationError("Must be an ISO 8601 date or date-time.")
        moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


class HistoryQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=10)
    start_date = serializers.CharField(required=False)
    end_date = serializers.CharField(required=False)
    model = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_start_date(self, value: str) -> dt.datetime:
        try:
            return _moment(value, end=False)
        except ValueError as exc:  # a well-formed but impossible date
            raise serializers.ValidationError(str(exc)) from None

    def validate_end_date(self, value: str) -> dt.datetime:
        try:
            return _moment(value, end=True)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and start > end:
            raise serializers.ValidationError({"end_date": ["Must not be before start_date."]})
        return attrs


class TurnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ("role", "content")


class SessionSerializer(serializers.ModelSerializer):
    """A chat as the stream dialect shows it: its number is its `id`."""

    id = serializers.IntegerField(source="number")
    uuid = serializers.UUIDField(source="pk")
    user_id = serializers.UUIDField(allow_null=True)
    application_id = serializers.UUIDField(source="company_id")
    messages = TurnSerializer(many=True)

    class Meta:
        model = Chat
        fields = ("id", "uuid", "user_id", "application_id", "model", "title", "messages", "created_at", "updated_at")


class SwitchedSerializer(serializers.ModelSerializer):
    session_id = serializers.IntegerField(source="number")
    messages = TurnSerializer(many=True)

    class Meta:
        model = Chat
        fields = ("session_id", "model", "messages", "title")


class HistorySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    sessions = SessionSerializer(many=True)


class MessageOnlySerializer(serializers.Serializer):
    message = serializers.CharField()


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)


class UploadedFileSerializer(serializers.ModelSerializer):
    file_size = serializers.IntegerField(source="size")
    mime_type = serializers.CharField(source="content_type")
    extracted_text = serializers.CharField(source="text")
    metadata = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ("id", "filename", "file_size", "mime_type", "extracted_text", "metadata", "created_at")

    def get_metadata(self, attachment: Attachment) -> dict[str, Any]:
        return {"page_count": attachment.pages}


class UploadedSerializer(serializers.Serializer):
    file = UploadedFileSerializer()
    message = serializers.CharField()


# --- prompts ---------------------------------------------------------------------------------------------


class PromptInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=100_000)
    scenario = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    metadata = serializers.DictField(required=False, default=dict)


class PromptUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    content = serializers.CharField(max_length=100_000, required=False)
    scenario = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    metadata = serializers.DictField(required=False)


class PromptQuerySerializer(serializers.Serializer):
    scenario = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    include_templates = serializers.BooleanField(required=False, default=True)
    search = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=20)


class PromptOutSerializer(serializers.ModelSerializer):
    """A prompt as this dialect shows it: its per-company number is its `id`."""

    id = serializers.IntegerField(source="number")
    uuid = serializers.UUIDField(source="pk")

    class Meta:
        model = Prompt
        fields = (
            "id",
            "uuid",
            "title",
            "content",
            "scenario",
            "description",
            "metadata",
            "is_template",
            "usage_count",
            "created_at",
            "updated_at",
        )


class PromptPageSerializer(serializers.Serializer):
    items = PromptOutSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()


class PreviewInputSerializer(serializers.Serializer):
    """A stored prompt (`prompt_id`) or `content`, with the values of its `{variables}`."""

    prompt_id = SessionRefField(required=False, allow_null=True, default=None)
    content = serializers.CharField(required=False, allow_blank=False, max_length=100_000)
    variables = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    model = serializers.CharField(required=False, max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("prompt_id") is None) == (attrs.get("content") is None):
            raise serializers.ValidationError("Give either prompt_id or content.")
        return attrs


class PreviewSerializer(serializers.Serializer):
    preview = serializers.CharField()
    tokens_used = serializers.IntegerField()
    model_used = serializers.CharField()
