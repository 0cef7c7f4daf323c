"""Writes of notes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core.exceptions import InvalidInput, NotFound
from apps.core.ids import parse_uuid
from apps.core.records import record_kind
from apps.notes.models import Note
from apps.notes.selectors import RECORD_NOT_FOUND

MAX_NOTE_CHARS = 20000


def note_save(
    *, company: Any, actor: Any, record_id: Any, category: str, note: str, author_label: str | None = None
) -> Note:
    """Attach a note to a record of the company; the author is the calling person, if any."""
    category = (category or "").strip()
    if not category or len(category) > 100:
        raise InvalidInput("Missing or invalid category.")
    if not note or not note.strip():
        raise InvalidInput("Missing note.")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"Invalid note: at most {MAX_NOTE_CHARS} characters.")
    kind = record_kind(company=company, record_id=record_id)
    if kind is None:
        raise NotFound(RECORD_NOT_FOUND)
    person = actor if getattr(actor, "is_person", False) else None
    label = author_label if author_label is not None else ("" if person else "API key")
    with transaction.atomic():
        return Note.objects.create(
            company=company,
            record_id=parse_uuid(record_id),
            record_kind=kind,
            category=category,
            text=note,
            author=person,
            author_label=label,
        )


def notes_delete_for_record(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deleted record's notes are deleted with it (connected to post_delete of each record model)."""
    company_id = getattr(instance, "company_id", None)
    if company_id is None:
        return
    Note.objects.filter(company_id=company_id, record_id=instance.pk).delete()
