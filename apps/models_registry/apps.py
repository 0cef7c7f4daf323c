from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _providers_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from apps.models_registry.providers.services import providers_changed

    providers_changed(company_id=instance.company_id)


class ModelsRegistryConfig(AppConfig):
    name = "apps.models_registry"
    label = "models_registry"

    def ready(self) -> None:
        from apps.core.records import register_record_model
        from apps.models_registry.models import AIModel

        register_record_model("model", AIModel)
        # Every saved or deleted provider or user key (services, API, admin) renews the company's providers
        # version, which the gateway's memory of resolved model ids is keyed by.
        from apps.models_registry.providers.models import LLMProvider, UserLLMConfig

        for model in (LLMProvider, UserLLMConfig):
            post_save.connect(_providers_changed, sender=model, dispatch_uid=f"providers-changed-save-{model.__name__}")
            post_delete.connect(
                _providers_changed, sender=model, dispatch_uid=f"providers-changed-delete-{model.__name__}"
            )
