"""Actors: a character the AI plays, with a prompt and personas (names with their own prompts)."""

from __future__ import annotations

from django.db import models

from apps.core.models import CompanyOwnedModel


class Actor(CompanyOwnedModel):
    """An AI actor of a company; `personas` is a list of `{"name", "prompt"}`."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    personas = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("name", "created_at")
        indexes = [models.Index(fields=["company", "is_active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def persona_names(self) -> list[str]:
        return [persona["name"] for persona in self.personas]
