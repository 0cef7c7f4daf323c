"""LLM providers of a company and the keys to reach them (company-wide, and per user)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import CompanyOwnedModel

# Provider names prefix model ids (`name.model`); this one is reserved for the offline provider.
BUILTIN_PROVIDER = "builtin"
# Model ids of the registry's deployed llm models are `model.<uuid>`; no provider may take this name.
REGISTRY_MODEL_PREFIX = "model"
RESERVED_PROVIDER_NAMES = (BUILTIN_PROVIDER, REGISTRY_MODEL_PREFIX)


def registry_model_id(pk: object) -> str:
    """The chat model id of a registry llm model."""
    return f"{REGISTRY_MODEL_PREFIX}.{pk}"


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible"
    AZURE = "azure", "Azure OpenAI"


class LLMProvider(CompanyOwnedModel):
    """An upstream a company sends chat completions to; its name is the prefix of model ids."""

    name = models.SlugField(max_length=50, help_text="Prefix of model ids: `name.upstream-model`.")
    kind = models.CharField(max_length=20, choices=ProviderKind.choices, default=ProviderKind.OPENAI)
    api_endpoint = models.URLField(max_length=500)
    api_version = models.CharField(max_length=40, blank=True, help_text="Azure OpenAI `api-version`.")
    api_key_encrypted = models.TextField(blank=True, help_text="The company-wide key, Fernet-encrypted.")
    api_key_hint = models.CharField(max_length=8, blank=True, help_text="The key's last characters, for display.")
    allowed_roles = models.JSONField(default=list, blank=True, help_text="Roles that may use it; empty: everyone.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="llm_provider_name_per_company")]

    def __str__(self) -> str:
        return self.name


class UserLLMConfig(CompanyOwnedModel):
    """A user's own key for a provider; it wins over the company-wide key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(LLMProvider, on_delete=models.CASCADE, related_name="user_configs")
    api_key_encrypted = models.TextField()
    api_key_hint = models.CharField(max_length=8, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="user_llm_config_once")]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.provider_id}"


__all__ = [
    "BUILTIN_PROVIDER",
    "REGISTRY_MODEL_PREFIX",
    "RESERVED_PROVIDER_NAMES",
    "LLMProvider",
    "ProviderKind",
    "UserLLMConfig",
    "registry_model_id",
]
