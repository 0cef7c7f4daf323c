"""Reads about providers: lookups scoped to the company, and which upstream a model id means."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery

from apps.accounts.roles import COMPANY_ADMIN, USER_MANAGER
from apps.core.crypto import decrypt_text
from apps.core.exceptions import NotFound, PermissionDenied, ServiceUnavailable
from apps.core.ids import parse_uuid
from apps.models_registry.providers.engines import BUILTIN_MODELS, UpstreamTarget
from apps.models_registry.providers.models import BUILTIN_PROVIDER, REGISTRY_MODEL_PREFIX, LLMProvider, UserLLMConfig
from apps.models_registry.selectors import chat_model_get


def providers_version_key(company_id: Any) -> str:
    return f"llm-providers-version:{company_id}"


def providers_version(*, company_id: Any) -> str:
    """A token that changes whenever the company's providers or its users' keys change (see `providers_changed`)."""
    return cache.get(providers_version_key(company_id)) or "0"


def provider_list(*, company: Any) -> QuerySet[LLMProvider]:
    """The company's providers, by name."""
    return LLMProvider.objects.for_company(company).order_by("name")


def provider_get(*, company: Any, provider_id: Any) -> LLMProvider:
    """One provider of the company; another company's id is not found."""
    provider = LLMProvider.objects.for_company(company).filter(pk=parse_uuid(provider_id)).first()
    if provider is None:
        raise NotFound("LLM provider not found.")
    return provider


def user_llm_config_get(*, company: Any, actor: Any, user_id: Any, provider_id: Any) -> UserLLMConfig:
    """A user's key record for a provider: visible to that user and to admins; others see not found."""
    config = (
        UserLLMConfig.objects.for_company(company)
        .filter(user_id=parse_uuid(user_id), provider_id=parse_uuid(provider_id))
        .first()
    )
    allowed = config is not None and (
        getattr(actor, "pk", None) == config.user_id or actor.has_any_role((COMPANY_ADMIN, USER_MANAGER))
    )
    if config is None or not allowed:
        raise NotFound("User LLM config not found.")
    return config


@dataclass(frozen=True)
class ResolvedModel:
    """What a model id means for a caller: the upstream to call and the upstream's model name."""

    model_id: str
    provider_name: str
    upstream_model: str
    target: UpstreamTarget
    registry_model: Any = None  # the registry llm model (`model.<uuid>`) whose documents ground the answer


def model_resolve(*, company: Any, user: Any, model_id: str) -> ResolvedModel:
    """`provider.model` → the upstream, with the caller's own key when they set one (else the company's).

    `model.<uuid>` is one of the company's deployed llm models: the upstream its `model_name_or_path` names.
    Unknown providers, another company's provider or model and unknown built-in models are not found (404);
    a provider limited to roles the caller does not hold is refused (403).
    """
    provider_name, _, upstream_model = (model_id or "").partition(".")
    if not provider_name or not upstream_model:
        raise NotFound(f"Model '{model_id}' not found. Model ids look like provider.model-name.")
    if provider_name == REGISTRY_MODEL_PREFIX:
        try:
            model = chat_model_get(company=company, modelid=upstream_model)
        except NotFound:
            raise NotFound(f"Model '{model_id}' not found.") from None
        return registry_model_resolve(company=company, user=user, model=model, model_id=model_id)
    if provider_name == BUILTIN_PROVIDER:
        if upstream_model not in BUILTIN_MODELS:
            raise NotFound(f"Model '{model_id}' not found.")
        return ResolvedModel(model_id, BUILTIN_PROVIDER, upstream_model, UpstreamTarget(kind="builtin", endpoint=""))
    providers = LLMProvider.objects.for_company(company).filter(name=provider_name, is_active=True)
    if getattr(user, "is_person", False):  # the caller's own key comes along in the same query
        own = UserLLMConfig.objects.filter(provider=OuterRef("pk"), user_id=user.pk).values("api_key_encrypted")
        providers = providers.annotate(own_key=Subquery(own[:1]))
    provider = providers.first()
    if provider is None:
        raise NotFound(f"Model '{model_id}' not found.")
    if provider.allowed_roles and not user.has_any_role(provider.allowed_roles):
        raise PermissionDenied(f"You do not have permission to use the model '{model_id}'.")
    own_key = getattr(provider, "own_key", None)
    target = _target(provider, user, {provider.pk: own_key} if own_key else {})
    return ResolvedModel(model_id, provider.name, upstream_model, target)


def registry_model_resolve(*, company: Any, user: Any, model: Any, model_id: str = "") -> ResolvedModel:
    """The upstream a registry llm model answers through: its `model_name_or_path` (empty: the built-in one)."""
    model_id = model_id or f"{REGISTRY_MODEL_PREFIX}.{model.pk}"
    underlying = (model.model_name_or_path or "").strip()
    provider_name, _, upstream_model = underlying.partition(".")
    if not underlying or provider_name == BUILTIN_PROVIDER:
        target = UpstreamTarget(kind="builtin", endpoint="")
        return ResolvedModel(model_id, BUILTIN_PROVIDER, upstream_model or BUILTIN_MODELS[0], target, model)
    if provider_name == REGISTRY_MODEL_PREFIX:
        raise NotFound(f"Model '{model_id}' names another registry model ('{underlying}'); it needs a provider's.")
    try:
        resolved = model_resolve(company=company, user=user, model_id=underlying)
    except NotFound:
        raise NotFound(f"Model '{model_id}' answers through '{underlying}', which is not found.") from None
    return replace(resolved, model_id=model_id, registry_model=model)


def _own_keys(user: Any, providers: list[LLMProvider]) -> dict[Any, str]:
    """The caller's own encrypted keys by provider id (a key pair has none)."""
    if not getattr(user, "is_person", False) or not providers:
        return {}
    rows = UserLLMConfig.objects.filter(user_id=user.pk, provider__in=providers)
    return dict(rows.values_list("provider_id", "api_key_encrypted"))


def _target(provider: LLMProvider, user: Any, own_keys: dict[Any, str] | None = None) -> UpstreamTarget:
    if own_keys is None:
        own_keys = _own_keys(user, [provider])
    encrypted = own_keys.get(provider.pk) or provider.api_key_encrypted
    try:
        api_key = decrypt_text(encrypted) if encrypted else ""
    except ValueError as exc:
        raise ServiceUnavailable("The provider's key cannot be read with the configured encryption keys.") from exc
    return UpstreamTarget(
        kind=provider.kind, endpoint=provider.api_endpoint, api_key=api_key, api_version=provider.api_version
    )


def provider_targets(*, company: Any, user: Any) -> list[tuple[str, UpstreamTarget]]:
    """Every active provider the caller may use, with the key they would use: for listing models."""
    providers = [
        provider
        for provider in provider_list(company=company).filter(is_active=True)
        if not provider.allowed_roles or user.has_any_role(provider.allowed_roles)
    ]
    own_keys = _own_keys(user, providers)
    return [(provider.name, _target(provider, user, own_keys)) for provider in providers]
