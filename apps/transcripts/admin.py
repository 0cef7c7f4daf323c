"""Transcripts in the admin, scoped to the staff member's company."""

from django.contrib import admin

from apps.core.admin import CompanyScopedAdmin
from apps.transcripts.models import Transcript


@admin.register(Transcript)
class TranscriptAdmin(CompanyScopedAdmin):
    list_display = ("reference_label", "company", "owner", "source", "state", "audio_seconds", "created_at")
    list_filter = ("state", "source", "shared")
    search_fields = ("reference_label", "description", "text")
    readonly_fields = ("id", "state", "progress", "error", "attempts", "engine", "language", "processed_at", "segments")
