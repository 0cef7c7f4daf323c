from typing import Any

from django.apps import AppConfig


def registry_usage_record(**fields: Any) -> None:
    """The usage record of a completion the registry made itself (model/test of an llm model), in no chat."""
    from apps.chat.services import usage_record

    usage_record(chat=None, **fields)


class ChatConfig(AppConfig):
    name = "apps.chat"
    label = "chat"

    def ready(self) -> None:
        from apps.chat import schema  # noqa: F401 - registers the OpenAPI auth extension
        from apps.chat.models import Chat
        from apps.core.records import register_record_model
        from apps.models_registry.providers.usage import register_usage_recorder

        register_record_model("chat", Chat)
        register_usage_recorder(registry_usage_record)
