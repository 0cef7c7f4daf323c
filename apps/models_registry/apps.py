from django.apps import AppConfig


class ModelsRegistryConfig(AppConfig):
    name = "apps.models_registry"
    label = "models_registry"

    def ready(self) -> None:
        from apps.core.records import register_record_model
        from apps.models_registry.models import AIModel

        register_record_model("model", AIModel)
