"""Writes about providers: create and change them, and keep their keys encrypted."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, USER_MANAGER
from apps.core.crypto import encrypt_text
from apps.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from apps.core.ids import parse_uuid
from apps.core.outbound import validate_url
from apps.models_registry.providers.models import (
    BUILTIN_PROVIDER,
    REGISTRY_MODEL_PREFIX,
    LLMProvider,
    ProviderKind,
    UserLLMConfig,
)
from apps.models_registry.providers.selectors import provider_get, providers_version_key, user_llm_config_get

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
_UNSET: Any = object()


def providers_changed(*, company_id: Any) -> None:
    """Give the company's providers a new version, so what was resolved from the old rows is asked again.

    Set at once and again after the commit: a lookup between the two may cache the old rows, never under the
    final version.
    """

    def bump() -> None:
        cache.set(providers_version_key(company_id), uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)


def key_hint(api_key: str) -> str:
    """What may be shown of a key: its last four characters."""
    return f"…{api_key[-4:]}" if len(api_key) >= 8 else "…"


def _clean_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "Invalid name: use lower-case letters, digits, '-' or '_' (it prefixes model ids, as in name.model)."
        )
    if name == BUILTIN_PROVIDER:
        raise InvalidInput(f"Invalid name: '{BUILTIN_PROVIDER}' is the built-in provider's.")
    if name == REGISTRY_MODEL_PREFIX:
        raise InvalidInput(f"Invalid name: '{REGISTRY_MODEL_PREFIX}' prefixes the ids of the company's own llm models.")
    return name


def _clean_roles(roles: list[str]) -> list[str]:
    unknown = [role for role in roles if role not in ALL_ROLES]
    if unknown:
        raise InvalidInput(f"Invalid allowed_roles: {', '.join(unknown)}. Valid roles: {', '.join(ALL_ROLES)}.")
    return list(dict.fromkeys(roles))


def provider_create(
    *,
    company: Any,
    actor: Any,
    name: str,
    api_endpoint: str,
    kind: str = ProviderKind.OPENAI,
    api_key: str = "",
    api_version: str = "",
    allowed_roles: list[str] | None = None,
) -> LLMProvider:
    """Add a provider to the company; its name must be free there."""
    if kind not in ProviderKind.values:
        raise InvalidInput(f"Invalid kind: use one of {', '.join(ProviderKind.values)}.")
    provider = LLMProvider(
        company=company,
        name=_clean_name(name),
        kind=kind,
        api_endpoint=validate_url(api_endpoint.strip()),
        api_version=api_version.strip(),
        allowed_roles=_clean_roles(allowed_roles or []),
        created_by=actor if getattr(actor, "is_person", False) else None,
    )
    if api_key:
        provider.api_key_encrypted, provider.api_key_hint = encrypt_text(api_key), key_hint(api_key)
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError as exc:
        raise Conflict(f"A provider named '{provider.name}' already exists.") from exc
    return provider


def provider_update(
    *,
    company: Any,
    actor: Any,
    provider_id: Any,
    api_endpoint: str = _UNSET,
    api_key: str = _UNSET,
    api_version: str = _UNSET,
    allowed_roles: list[str] = _UNSET,
    is_active: bool = _UNSET,
) -> LLMProvider:
    """Change a provider's endpoint, key (empty removes it), roles or activation."""
    provider = provider_get(company=company, provider_id=provider_id)
    if api_endpoint is not _UNSET:
        provider.api_endpoint = validate_url(api_endpoint.strip())
    if api_key is not _UNSET:
        provider.api_key_encrypted = encrypt_text(api_key) if api_key else ""
        provider.api_key_hint = key_hint(api_key) if api_key else ""
    if api_version is not _UNSET:
        provider.api_version = api_version.strip()
    if allowed_roles is not _UNSET:
        provider.allowed_roles = _clean_roles(allowed_roles)
    if is_active is not _UNSET:
        provider.is_active = is_active
    provider.save()
    return provider


def provider_delete(*, company: Any, actor: Any, provider_id: Any) -> None:
    """Remove a provider and every user's key for it."""
    provider_get(company=company, provider_id=provider_id).delete()


def _may_manage_keys_of(actor: Any, user: User) -> bool:
    return getattr(actor, "pk", None) == user.pk or actor.has_any_role((COMPANY_ADMIN, USER_MANAGER))


def user_llm_config_save(
    *, company: Any, actor: Any, user_id: Any, provider_id: Any, api_key: str
) -> tuple[UserLLMConfig, bool]:
    """Set a user's own key for a provider (their own, or anyone's for admins); True when newly made."""
    if not api_key:
        raise InvalidInput("Missing api_key.")
    user = User.objects.for_company(company).filter(pk=parse_uuid(user_id)).first()
    provider = LLMProvider.objects.for_company(company).filter(pk=parse_uuid(provider_id)).first()
    if user is None or provider is None:
        raise NotFound("User or LLM provider not found.")
    if not _may_manage_keys_of(actor, user):
        raise PermissionDenied("You may only set your own keys.")
    with transaction.atomic():
        config, created = (
            UserLLMConfig.objects.for_company(company)
            .select_for_update()
            .get_or_create(
                user=user,
                provider=provider,
                defaults={
                    "company": company,
                    "api_key_encrypted": encrypt_text(api_key),
                    "api_key_hint": key_hint(api_key),
                },
            )
        )
        if not created:
            config.api_key_encrypted, config.api_key_hint = encrypt_text(api_key), key_hint(api_key)
            config.save(update_fields=["api_key_encrypted", "api_key_hint", "updated_at"])
    return config, created


def user_llm_config_delete(*, company: Any, actor: Any, user_id: Any, provider_id: Any) -> None:
    """Forget a user's own key: the company key applies again."""
    user_llm_config_get(company=company, actor=actor, user_id=user_id, provider_id=provider_id).delete()
