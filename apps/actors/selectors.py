"""Reads of actors, always scoped to the caller's company."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.actors.models import Actor
from apps.core.exceptions import NotFound
from apps.core.ids import parse_uuid

ACTOR_NOT_FOUND = "Actor not found."


def actor_list(*, company: Any, is_active: bool | None = None) -> QuerySet[Actor]:
    """The company's actors by name, optionally only the active (or inactive) ones."""
    queryset = Actor.objects.for_company(company)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("name", "created_at")


def actor_get(*, company: Any, actor_id: Any) -> Actor:
    """One actor of the company; an unknown id or another company's answers alike."""
    parsed = parse_uuid(actor_id)
    actor = Actor.objects.for_company(company).filter(pk=parsed).first() if parsed else None
    if actor is None:
        raise NotFound(ACTOR_NOT_FOUND)
    return actor


def actor_system_prompt(*, company: Any, actor_id: Any, persona: str | None = None) -> str:
    """The system message a chat started with this actor (and optionally one of its personas) begins with."""
    actor = actor_get(company=company, actor_id=actor_id)
    parts = [f"You are {actor.name}."]
    if actor.description:
        parts.append(actor.description)
    if actor.prompt:
        parts.append(actor.prompt)
    if persona is not None:
        chosen = next((p for p in actor.personas if p["name"].lower() == persona.lower()), None)
        if chosen is None:
            raise NotFound(f"Persona not found: {persona}.")
        parts.append(f"Persona: {chosen['name']}.")
        if chosen["prompt"]:
            parts.append(chosen["prompt"])
    return "\n\n".join(parts)
