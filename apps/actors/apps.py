from django.apps import AppConfig


class ActorsConfig(AppConfig):
    name = "apps.actors"
    label = "actors"

    def ready(self) -> None:
        from apps.actors.models import Actor
        from apps.core.records import register_record_model

        register_record_model("actor", Actor)
