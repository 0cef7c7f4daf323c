"""Reads of notes, always scoped to the caller's company."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.exceptions import NotFound
from apps.core.ids import parse_uuid
from apps.core.records import record_kind
from apps.notes.models import Note

RECORD_NOT_FOUND = "Record not found."


def note_list(*, company: Any, record_id: Any) -> QuerySet[Note]:
    """The notes of one record of the company, oldest first; an unknown record (or another company's) is 404."""
    if record_kind(company=company, record_id=record_id) is None:
        raise NotFound(RECORD_NOT_FOUND)
    return (
        Note.objects.for_company(company)
        .filter(record_id=parse_uuid(record_id))
        .select_related("author")
        .order_by("created_at", "id")
    )
