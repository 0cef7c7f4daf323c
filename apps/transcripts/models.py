"""Transcripts: text of a conversation or recording, typed in, imported, or recognised from audio."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import CompanyOwnedModel, CompanyScopedQuerySet


class TranscriptQuerySet(CompanyScopedQuerySet):
    """Transcripts of a company, narrowed to what a caller may see."""

    def visible_to(self, principal: Any) -> TranscriptQuerySet:
        """Company Admins (and the company's key pair) see all; others their own and the shared ones."""
        queryset = self.for_company(getattr(principal, "company", None))
        if getattr(principal, "is_company_admin", False):
            return queryset
        return queryset.filter(Q(owner_id=principal.pk) | Q(shared=True))


def audio_path(instance: Transcript, filename: str) -> str:
    return f"companies/{instance.company_id}/transcripts/{instance.pk}/audio"


class Transcript(CompanyOwnedModel):
    """One transcript; `state` follows a recognition job when it came from audio."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        IMPORT = "import"
        UPLOAD = "upload"

    class State(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="transcripts"
    )
    reference_label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    text = models.TextField(blank=True)
    speakers = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # "|tag one|tag two|", lower-cased, so a tag filter works the same on SQLite and PostgreSQL.
    tags_index = models.TextField(blank=True, editable=False)
    shared = models.BooleanField(default=False, help_text="Visible to everyone in the company.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    state = models.CharField(max_length=12, choices=State.choices, default=State.COMPLETED)
    progress = models.PositiveSmallIntegerField(default=100)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    segments = models.JSONField(default=list, blank=True, help_text="Timed segments (and words, from audio).")
    language = models.CharField(max_length=16, blank=True)
    engine = models.CharField(max_length=40, blank=True)
    audio = models.FileField(upload_to=audio_path, null=True, blank=True, max_length=300)
    audio_format = models.CharField(max_length=40, blank=True)
    audio_seconds = models.FloatField(null=True, blank=True)
    source_filename = models.CharField(max_length=255, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = TranscriptQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["company", "-created_at"])]

    def __str__(self) -> str:
        return self.reference_label

    @property
    def status(self) -> bool:
        """The spec's boolean: the text is ready."""
        return self.state == self.State.COMPLETED

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.tags_index = "|" + "|".join(str(tag).lower() for tag in self.tags or []) + "|"
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "tags" in update_fields:
            kwargs["update_fields"] = {*update_fields, "tags_index"}
        super().save(*args, **kwargs)
