"""Writes of actors: save (create or update) and bulk delete."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from apps.actors.models import Actor
from apps.actors.selectors import actor_get
from apps.core.exceptions import InvalidInput
from apps.core.ids import rows_with_ids


def personas_normalize(personas: list[Any]) -> list[dict[str, str]]:
    """Personas as `{"name", "prompt"}`; a plain string is a persona's name with no prompt of its own."""
    if len(personas) > settings.ACTOR_MAX_PERSONAS:
        raise InvalidInput(f"Invalid personas: at most {settings.ACTOR_MAX_PERSONAS} are allowed.")
    result: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(personas):
        if isinstance(item, str):
            name, prompt = item, ""
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            prompt = item.get("prompt") or ""
            if not isinstance(prompt, str):
                raise InvalidInput(f"Invalid personas: the prompt of persona {index + 1} must be a string.")
            name = item["name"]
        else:
            raise InvalidInput(f"Invalid personas: persona {index + 1} must be a name or an object with a name.")
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(f"Invalid personas: persona {index + 1} needs a name of 1 to 100 characters.")
        if name.lower() in seen:
            raise InvalidInput(f"Invalid personas: {name!r} is listed twice.")
        seen.add(name.lower())
        result.append({"name": name, "prompt": prompt})
    return result


def actor_save(
    *,
    company: Any,
    actor: Any,
    name: str,
    actor_id: Any = None,
    description: str | None = None,
    prompt: str | None = None,
    is_active: bool | None = None,
    personas: list[Any] | None = None,
) -> Actor:
    """Create an actor, or update one when `actor_id` is given; fields left out keep their value."""
    if not name or not name.strip():
        raise InvalidInput("Missing or invalid actor name.")
    normalized = personas_normalize(personas) if personas is not None else None
    with transaction.atomic():
        record = actor_get(company=company, actor_id=actor_id) if actor_id is not None else Actor(company=company)
        record.name = name.strip()
        if description is not None:
            record.description = description
        if prompt is not None:
            record.prompt = prompt
        if is_active is not None:
            record.is_active = is_active
        if normalized is not None:
            record.personas = normalized
        record.save()
    return record


def actors_delete(*, company: Any, actor: Any, actor_ids: list[Any]) -> int:
    """Delete actors of the company; all or nothing (an unknown id deletes none)."""
    if not actor_ids:
        raise InvalidInput("Missing actors.")
    with transaction.atomic():
        rows = rows_with_ids(Actor.objects.for_company(company), actor_ids, what="Actor")
        Actor.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)
