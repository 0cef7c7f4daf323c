"""Payment processors behind one interface, chosen by `BILLING_PROCESSOR`."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.billing.processors.base import PaymentProcessor
from apps.billing.processors.sandbox import SandboxProcessor

_FACTORIES: dict[str, Callable[[], PaymentProcessor]] = {"sandbox": SandboxProcessor}


def register_processor(name: str, factory: Callable[[], PaymentProcessor]) -> None:
    """Make a processor available under `name` (for `BILLING_PROCESSOR`)."""
    _FACTORIES[name] = factory


def get_processor(name: str | None = None) -> PaymentProcessor:
    """The configured processor (or the one named)."""
    name = name or settings.BILLING_PROCESSOR
    try:
        return _FACTORIES[name]()
    except KeyError as exc:
        raise ImproperlyConfigured(f"Unknown BILLING_PROCESSOR {name!r}; known: {', '.join(_FACTORIES)}") from exc
