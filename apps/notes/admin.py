"""Admin for notes."""

from django.contrib import admin

from apps.core.admin import CompanyScopedAdmin
from apps.notes.models import Note


@admin.register(Note)
class NoteAdmin(CompanyScopedAdmin):
    list_display = ("category", "record_kind", "record_id", "company", "author", "created_at")
    list_filter = ("record_kind", "category")
    search_fields = ("text", "category")
    readonly_fields = ("id", "record_id", "record_kind", "author", "created_at", "updated_at")
