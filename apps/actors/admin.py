"""Admin for actors."""

from django.contrib import admin

from apps.actors.models import Actor
from apps.core.admin import CompanyScopedAdmin


@admin.register(Actor)
class ActorAdmin(CompanyScopedAdmin):
    list_display = ("name", "company", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "description")
    readonly_fields = ("id", "created_at", "updated_at")
