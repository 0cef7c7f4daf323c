"""Opaque ids: UUID strings from clients, checked before they reach a query."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from apps.core.exceptions import NotFound

M = TypeVar("M", bound=Model)


def parse_uuid(value: Any) -> uuid.UUID | None:
    """The UUID a client sent, or None when it is not one (answered like an unknown id)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def rows_with_ids(queryset: QuerySet[M], ids: Iterable[Any], *, what: str, message: str | None = None) -> list[M]:
    """The rows of `queryset` with these ids, in one query, for all-or-nothing bulk actions.

    NotFound names the first id that is not one of them (unknown, garbage, or another company's),
    unless the caller gives its own `message`.
    """
    wanted = {str(raw): parse_uuid(raw) for raw in ids}
    rows = list(queryset.filter(pk__in=[pk for pk in wanted.values() if pk]))
    found = {row.pk for row in rows}
    missing = [raw for raw, pk in wanted.items() if pk not in found]
    if missing:
        raise NotFound(message or f"{what} not found: {missing[0]}.")
    return rows


def is_ascii_digits(text: str) -> bool:
    """Only 0-9 (`str.isdigit` also admits "²" and other digits `int()` refuses)."""
    return bool(text) and text.isascii() and text.isdigit()
