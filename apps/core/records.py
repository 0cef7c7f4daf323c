"""Record kinds: apps say which of their rows are "records" of a company, so generic features find them.

A feature that attaches to any record (notes) asks `record_kind(company=..., record_id=...)` without
knowing the apps that own records. Each app registers its kinds in `AppConfig.ready()`:

    register_record_model("activity", Activity)

or, when a row is not simply "a model of the company", a callable saying whether an id is one of its
records. Registration order decides the order in which kinds are asked; kinds are unique.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.core.ids import parse_uuid

RecordExists = Callable[[Any, uuid.UUID], bool]


@dataclass(frozen=True)
class RecordKind:
    """A kind of record: its name, the check, and (for model-backed kinds) the model."""

    name: str
    exists: RecordExists
    model: type | None = None


_KINDS: dict[str, RecordKind] = {}


def register_record_kind(name: str, exists: RecordExists, *, model: type | None = None) -> None:
    """Register a kind of record; `exists(company, id)` says whether `id` is such a record of `company`."""
    existing = _KINDS.get(name)
    same = existing is not None and (existing.exists is exists or (model is not None and existing.model is model))
    if existing is not None and not same:
        raise ValueError(f"Record kind {name!r} is already registered.")
    _KINDS[name] = RecordKind(name=name, exists=exists, model=model)


def register_record_model(name: str, model: type) -> None:
    """Register a company-scoped model as a kind of record (rows reached through `for_company`)."""

    def exists(company: Any, record_id: uuid.UUID) -> bool:
        return bool(model._default_manager.for_company(company).filter(pk=record_id).exists())  # type: ignore[attr-defined]

    register_record_kind(name, exists, model=model)


def record_kinds() -> list[RecordKind]:
    """Every registered kind, in registration order."""
    return list(_KINDS.values())


def record_kind(*, company: Any, record_id: Any) -> str | None:
    """The kind of the company's record with this id, or None (unknown, garbage, or another company's)."""
    parsed = parse_uuid(record_id)
    if parsed is None or company is None:
        return None
    for kind in _KINDS.values():
        if kind.exists(company, parsed):
            return kind.name
    return None
