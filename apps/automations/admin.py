"""Admin for automations, their runs and per-company settings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.automations.models import Automation, AutomationRun, AutomationSettings
from apps.core.admin import CompanyScopedAdmin


@admin.register(Automation)
class AutomationAdmin(CompanyScopedAdmin):
    list_display = ("name", "company", "is_active", "schedule", "next_run_at", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "description")
    exclude = ("trigger_digest", "trigger_secret")
    readonly_fields = ("id", "next_run_at", "created_at", "updated_at")


@admin.register(AutomationRun)
class AutomationRunAdmin(CompanyScopedAdmin):
    list_display = ("automation", "mode", "status", "started_at", "ended_at", "attempts")
    list_filter = ("status", "mode")
    readonly_fields = [field.name for field in AutomationRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AutomationSettings)
class AutomationSettingsAdmin(CompanyScopedAdmin):
    list_display = ("company", "run_retention_days")
