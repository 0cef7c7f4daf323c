"""Notes: text with a category and an author, attached to any record of a company."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import CompanyOwnedModel


class Note(CompanyOwnedModel):
    """A note on a record (activity, actor, automation, user, ...) of the same company."""

    record_id = models.UUIDField()
    record_kind = models.CharField(max_length=40)
    category = models.CharField(max_length=100)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wrote it when no person did: "API key", or the automation that wrote it.
    author_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("created_at",)
        indexes = [models.Index(fields=["company", "record_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.category}: {self.text[:40]}"
