"""Admin for the registry, scoped to the staff member's company."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import CompanyScopedAdmin
from apps.models_registry.models import AIModel, DataSource, Intent, Slot, VocabularyEntry


@admin.register(AIModel)
class AIModelAdmin(CompanyScopedAdmin):
    list_display = ("name", "algorithm", "state", "version", "isdeployed", "isdefault_llm", "company")
    list_filter = ("algorithm", "state", "isdeployed")
    search_fields = ("name", "description")
    readonly_fields = ("id", "state", "progress", "error", "version", "trained_at", "created_at", "updated_at")


@admin.register(Intent)
class IntentAdmin(CompanyScopedAdmin):
    list_display = ("name", "model", "isactive")
    search_fields = ("name",)


@admin.register(Slot)
class SlotAdmin(CompanyScopedAdmin):
    list_display = ("name", "intent", "model", "isrequired")
    search_fields = ("name", "intent")


@admin.register(VocabularyEntry)
class VocabularyEntryAdmin(CompanyScopedAdmin):
    list_display = ("term", "model")
    search_fields = ("term", "definition")


@admin.register(DataSource)
class DataSourceAdmin(CompanyScopedAdmin):
    list_display = ("originalname", "kind", "model", "size", "updated_at")
    list_filter = ("kind",)
    search_fields = ("originalname", "url")
    readonly_fields = ("id", "created_at", "updated_at")


from apps.models_registry.providers.admin import *  # noqa: E402, F403 - the providers' admin classes
