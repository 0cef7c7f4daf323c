"""Input and output shapes of the provider, configuration, chat list and inference endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.accounts.roles import ALL_ROLES
from apps.chat.models import Chat, MessageRole, Prompt
from apps.models_registry.providers.models import LLMProvider, ProviderKind, UserLLMConfig

# --- providers (conversations dialect) ----------------------------------------------------------------


class ProviderCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    api_endpoint = serializers.CharField(max_length=500)
    kind = serializers.ChoiceField(choices=ProviderKind.choices, default=ProviderKind.OPENAI)
    api_key = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=True)
    api_version = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    allowed_roles = serializers.ListField(child=serializers.ChoiceField(choices=ALL_ROLES), required=False)


class ProviderUpdateSerializer(serializers.Serializer):
    api_endpoint = serializers.CharField(max_length=500, required=False)
    api_key = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True)
    api_version = serializers.CharField(required=False, allow_blank=True, max_length=40)
    allowed_roles = serializers.ListField(child=serializers.ChoiceField(choices=ALL_ROLES), required=False)
    is_active = serializers.BooleanField(required=False)


class ProviderSerializer(serializers.ModelSerializer):
    """A provider as the API shows it: the key only as a hint of its last characters."""

    has_api_key = serializers.SerializerMethodField()

    class Meta:
        model = LLMProvider
        fields = (
            "id",
            "name",
            "kind",
            "api_endpoint",
            "api_version",
            "has_api_key",
            "api_key_hint",
            "allowed_roles",
            "is_active",
            "created_at",
            "updated_at",
        )

    def get_has_api_key(self, provider: LLMProvider) -> bool:
        return bool(provider.api_key_encrypted)


class UserLLMConfigInputSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    provider_id = serializers.CharField()
    api_key = serializers.CharField(trim_whitespace=True)


class UserLLMConfigSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField()
    provider_id = serializers.UUIDField()
    has_api_key = serializers.SerializerMethodField()

    class Meta:
        model = UserLLMConfig
        fields = ("id", "user_id", "provider_id", "has_api_key", "api_key_hint", "created_at", "updated_at")

    def get_has_api_key(self, config: UserLLMConfig) -> bool:
        return bool(config.api_key_encrypted)


# --- gateway chats ---------------------------------------------------------------------------------------


class ChatSummarySerializer(serializers.ModelSerializer):
    """A chat in lists: id, number, title, model, state and times (seconds since the epoch as well)."""

    user_id = serializers.UUIDField(allow_null=True)
    created_at_epoch = serializers.SerializerMethodField()
    updated_at_epoch = serializers.SerializerMethodField()

    class Meta:
        model = Chat
        fields = (
            "id",
            "number",
            "user_id",
            "title",
            "model",
            "state",
            "created_at",
            "updated_at",
            "created_at_epoch",
            "updated_at_epoch",
        )

    def get_created_at_epoch(self, chat: Chat) -> int:
        return int(chat.created_at.timestamp())

    def get_updated_at_epoch(self, chat: Chat) -> int:
        return int(chat.updated_at.timestamp())


class ChatsQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)


class NewChatMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MessageRole.choices)
    content = serializers.CharField(allow_blank=True)


class NewChatSerializer(serializers.Serializer):
    """`{"chat": {"title", "model" or "models", "messages"}}`, or the same keys at the top level."""

    title = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    model = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    models = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    messages = NewChatMessageSerializer(many=True, required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("chat"), dict):
            data = data["chat"]
        return super().to_internal_value(data)


class PromptSerializer(serializers.ModelSerializer):
    """A prompt as the chat stream API shows it: its per-company number is its `id`."""

    id = serializers.IntegerField(source="number")
    uuid = serializers.UUIDField(source="pk")
    user_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = Prompt
        fields = (
            "id",
            "uuid",
            "user_id",
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


# --- toolbox inference -------------------------------------------------------------------------------------


class InferenceInputSerializer(serializers.Serializer):
    input = serializers.CharField(max_length=100_000)
