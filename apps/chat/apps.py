from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "apps.chat"
    label = "chat"

    def ready(self) -> None:
        from apps.chat import schema  # noqa: F401 - registers the OpenAPI auth extension
        from apps.chat.models import Chat
        from apps.core.records import register_record_model

        register_record_model("chat", Chat)
