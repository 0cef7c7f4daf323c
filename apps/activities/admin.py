"""Admin for activities and their per-company settings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.activities.models import Activity, ActivitySettings
from apps.core.admin import CompanyScopedAdmin


@admin.register(Activity)
class ActivityAdmin(CompanyScopedAdmin):
    list_display = ("name", "company", "is_active", "model_id", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "description")
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(ActivitySettings)
class ActivitySettingsAdmin(CompanyScopedAdmin):
    list_display = ("company", "active_limit")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The limit stands in for the plan's: the operator's to set, not the company's.
        return self._is_global(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_global(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_global(request)
