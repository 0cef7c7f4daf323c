"""Factories for providers and chats."""

from __future__ import annotations

from typing import Any

from apps.models_registry.providers.models import LLMProvider
from apps.models_registry.providers.services import provider_create


def make_provider(
    company: Any, url: str, *, name: str = "acme", api_key: str = "sk-company-key-0001", **kw: Any
) -> LLMProvider:
    """A provider of `company` pointing at `url`, through the service (so the key is encrypted)."""
    return provider_create(company=company, actor=None, name=name, api_endpoint=url, api_key=api_key, **kw)
