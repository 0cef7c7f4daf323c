"""Admin for chats (with their messages) and completion usage, with totals per company and model."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Avg, Count, Sum
from django.http import HttpRequest, HttpResponse

from apps.chat import live, services
from apps.chat.models import Attachment, Chat, CompletionUsage, EndUser, Message, Prompt
from apps.core.admin import CompanyScopedAdmin, admin_company


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("role", "content", "model", "prompt_tokens", "completion_tokens", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChatUserFilter(admin.SimpleListFilter):
    """Chats of one person or one end-user, among those the admin may see."""

    title = "user"
    parameter_name = "chat_user"
    shown = 200

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        chats = model_admin.get_queryset(request).order_by()
        people = chats.filter(user__isnull=False).values_list("user_id", "user__email").distinct()[: self.shown]
        end_users = chats.exclude(user_ref="").values_list("user_ref", flat=True).distinct()[: self.shown]
        options = [(f"u:{pk}", email) for pk, email in people]
        return options + [(f"e:{ref}", f"{ref} (end-user)") for ref in end_users]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        kind, _, value = (self.value() or "").partition(":")
        if kind == "u":
            return queryset.filter(user_id=value)
        if kind == "e":
            return queryset.filter(user_ref=value)
        return queryset


@admin.register(Chat)
class ChatAdmin(CompanyScopedAdmin):
    list_display = ("number", "title", "user", "user_ref", "model", "state", "updated_at", "ended_at", "company")
    list_filter = ("state", "model", ChatUserFilter)
    actions = ["stop_chats"]
    search_fields = ("title", "user__email", "user_ref")
    readonly_fields = ("id", "number", "options", "created_at", "updated_at")
    inlines = [MessageInline]

    @admin.action(description="Stop the selected chats (close their sockets, archive them)")
    def stop_chats(self, request: HttpRequest, queryset: Any) -> None:
        for chat in queryset.select_related("company"):
            live.chat_stop(company=chat.company, chat_ref=chat.pk)
        self.message_user(request, f"{queryset.count()} chat(s) stopped.")


@admin.register(CompletionUsage)
class CompletionUsageAdmin(CompanyScopedAdmin):
    list_display = ("created_at", "company", "user", "model", "source", "outcome", "total_tokens", "latency_ms")
    list_filter = ("outcome", "source", "model", "stream", "tokens_counted_locally")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in CompletionUsage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:  # totals of what the filters selected, per company and model
            context["usage_totals"] = (
                context["cl"]
                .queryset.order_by()
                .values("company__name", "model")
                .annotate(
                    requests=Count("id"),
                    prompt=Sum("prompt_tokens"),
                    completion=Sum("completion_tokens"),
                    total=Sum("total_tokens"),
                    latency=Avg("latency_ms"),
                )
                .order_by("company__name", "model")
            )
        return response


@admin.register(Prompt)
class PromptAdmin(CompanyScopedAdmin):
    list_display = ("number", "title", "scenario", "is_template", "user", "usage_count", "company")
    list_filter = ("is_template", "scenario")
    search_fields = ("title", "content", "description")
    readonly_fields = ("number", "usage_count", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        company = obj.company if self._is_global(request) else admin_company(request)
        fields = {name: form.cleaned_data.get(name) for name in ("scenario", "description", "metadata", "is_template")}
        created = services.prompt_create(
            company=company, user=request.user, title=obj.title, content=obj.content, **fields
        )
        obj.pk, obj.number, obj.company = created.pk, created.number, created.company


@admin.register(EndUser)
class EndUserAdmin(CompanyScopedAdmin):
    list_display = ("external_id", "company", "created_at")
    search_fields = ("external_id",)
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(Attachment)
class AttachmentAdmin(CompanyScopedAdmin):
    list_display = ("filename", "content_type", "size", "pages", "chat", "company", "created_at")
    list_filter = ("content_type",)
    search_fields = ("filename",)
    readonly_fields = ("id", "chat", "message", "file", "content_type", "size", "pages", "text", "created_at")
