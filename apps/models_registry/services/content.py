"""Intents, slots and vocabulary of a model."""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction

from apps.core.exceptions import Conflict, InvalidInput, NotFound
from apps.core.ids import parse_uuid, rows_with_ids
from apps.models_registry.models import AIModel, Intent, Slot, VocabularyEntry
from apps.models_registry.selectors import model_get

MAX_TERM_LENGTH = 500


def _clean_name(value: Any, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"Missing {field}.")
    if len(text) > 200:
        raise InvalidInput(f"Invalid {field}: at most 200 characters.")
    return text


def _saved(instance: Any, conflict: str) -> None:
    """Save, turning a uniqueness race into the same answer as the pre-check."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


# --- intents -------------------------------------------------------------------------------------


def intent_save(
    *,
    company: Any,
    actor: Any,
    modelid: str,
    intent: str,
    intentid: str | None = None,
    isactive: bool | None = None,
    utterances: list[str] | None = None,
    answer: str | None = None,
) -> Intent:
    """Create an intent, or rename/update the one `intentid` names."""
    model = model_get(company=company, modelid=modelid)
    name = _clean_name(intent, "intent")
    if intentid:
        pk = parse_uuid(intentid)
        row = Intent.objects.for_company(company).filter(model=model, pk=pk).first() if pk else None
        if row is None:
            raise NotFound("Intent not found.")
    else:
        row = Intent(company=company, model=model)
    if Intent.objects.for_company(company).filter(model=model, name=name).exclude(pk=row.pk).exists():
        raise Conflict(f"The model already has an intent named {name!r}.")
    row.name = name
    if isactive is not None:
        row.isactive = isactive
    if utterances is not None:
        cleaned = [u.strip() for u in utterances if isinstance(u, str) and u.strip()]
        row.utterances = list(dict.fromkeys(cleaned))
    if answer is not None:
        row.answer = answer
    _saved(row, f"The model already has an intent named {name!r}.")
    return row


@transaction.atomic
def intents_delete(*, company: Any, actor: Any, intentids: list[str], modelid: str | None = None) -> int:
    """Delete intents (with their slots); all or nothing."""
    if not intentids:
        raise InvalidInput("Missing intents.")
    queryset = Intent.objects.for_company(company)
    if modelid:
        queryset = queryset.filter(model=model_get(company=company, modelid=modelid))
    found = rows_with_ids(
        queryset.select_for_update(), intentids, what="Intent", message="Intent not found; no intent was deleted."
    )
    for row in found:
        Slot.objects.for_company(company).filter(model_id=row.model_id, intent=row.name).delete()
        row.delete()
    return len(found)


# --- slots ---------------------------------------------------------------------------------------


def conditions_parse(value: Any) -> list[Any]:
    """Slot conditions: a JSON array, sent as an array or as a string holding one."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidInput("Invalid conditions: not valid JSON.") from exc
    if not isinstance(value, list):
        raise InvalidInput("Invalid conditions: expected a JSON array.")
    return value


def slot_save(
    *,
    company: Any,
    actor: Any,
    modelid: str,
    name: str,
    intent: str,
    slotid: str | None = None,
    language: str | None = None,
    description: str | None = None,
    isrequired: bool | None = None,
    isactive: bool | None = None,
    followup: str | None = None,
    conditions: Any = None,
) -> Slot:
    """Create a slot, or update the one `slotid` names."""
    model = model_get(company=company, modelid=modelid)
    name = _clean_name(name, "name")
    intent_name = _clean_name(intent, "intent")
    if slotid:
        pk = parse_uuid(slotid)
        row = Slot.objects.for_company(company).filter(model=model, pk=pk).first() if pk else None
        if row is None:
            raise NotFound("Slot not found.")
    else:
        row = Slot(company=company, model=model)
    if Slot.objects.for_company(company).filter(model=model, name=name).exclude(pk=row.pk).exists():
        raise Conflict(f"The model already has a slot named {name!r}.")
    row.name = name
    row.intent = intent_name
    if language is not None:
        language = language.strip().lower()
        if not language or len(language) > 10:
            raise InvalidInput("Invalid language: use a language code such as 'en'.")
        row.language = language
    if description is not None:
        row.description = description
    if isrequired is not None:
        row.isrequired = isrequired
    if isactive is not None:
        row.isactive = isactive
    if followup is not None:
        row.followup = followup
    if conditions is not None:
        row.conditions = conditions_parse(conditions)
    if row.isrequired and not row.followup.strip():
        raise InvalidInput("Missing followup: a required slot needs the question to ask when it is missing.")
    _saved(row, f"The model already has a slot named {name!r}.")
    return row


@transaction.atomic
def slots_delete(*, company: Any, actor: Any, modelid: str, slotids: list[str]) -> int:
    """Delete slots of one model; all or nothing."""
    model = model_get(company=company, modelid=modelid)
    if not slotids:
        raise InvalidInput("Missing slots.")
    found = rows_with_ids(
        Slot.objects.for_company(company).filter(model=model).select_for_update(),
        slotids,
        what="Slot",
        message="No slots were deleted: a slot was not found.",
    )
    Slot.objects.for_company(company).filter(pk__in=[row.pk for row in found]).delete()
    return len(found)


# --- vocabulary ----------------------------------------------------------------------------------


def vocabulary_add(*, model: AIModel, entries: list[tuple[str, str]]) -> int:
    """Add (term, definition) pairs that the model does not have yet; returns how many were added."""
    existing = {
        t.lower()
        for t in VocabularyEntry.objects.for_company(model.company_id)
        .filter(model=model)
        .values_list("term", flat=True)
    }
    added = 0
    for term, definition in entries:
        term = " ".join(term.split())
        if not term or term.lower() in existing:
            continue
        existing.add(term.lower())
        VocabularyEntry.objects.create(
            company_id=model.company_id, model=model, term=term[:MAX_TERM_LENGTH], definition=definition.strip()
        )
        added += 1
    return added


@transaction.atomic
def vocabulary_save(*, company: Any, actor: Any, modelid: str, text: str, description: str | None = None) -> bool:
    """Add a vocabulary entry unless the model already has that text; True when it was added."""
    model = model_get(company=company, modelid=modelid, for_update=True)
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput("Missing text.")
    if len(text) > MAX_TERM_LENGTH:
        raise InvalidInput(f"Invalid text: at most {MAX_TERM_LENGTH} characters.")
    return vocabulary_add(model=model, entries=[(text, description or "")]) == 1


@transaction.atomic
def vocabulary_delete(*, company: Any, actor: Any, modelid: str, entryid: str) -> None:
    """Remove one vocabulary entry of a model."""
    model = model_get(company=company, modelid=modelid)
    pk = parse_uuid(entryid)
    deleted = VocabularyEntry.objects.for_company(company).filter(model=model, pk=pk).delete()[0] if pk else 0
    if not deleted:
        raise NotFound("Vocabulary entry not found.")
