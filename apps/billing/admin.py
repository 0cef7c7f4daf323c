"""Billing admin: the plan catalogue (operators), each company's plan and usage against its limits,
granting a plan by hand, and read-only payment methods, payments, requests and usage counters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from apps.accounts.roles import PLAN_CODES
from apps.billing.models import CompanyPlan, Membership, MembershipRequest, Payment, PaymentMethod, Plan, UsageCounter
from apps.billing.services.common import cents_to_amount
from apps.billing.services.limits import usage_summary
from apps.billing.services.membership import membership_grant
from apps.core.admin import CompanyScopedAdmin


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """The catalogue: operators edit prices and limits; the codes themselves are fixed."""

    list_display = (
        "code",
        "name",
        "price",
        "period",
        "self_service",
        "max_users",
        "max_active_activities",
        "max_models",
        "max_inference_requests_per_month",
        "max_tokens_per_month",
        "max_transcription_minutes_per_month",
        "max_upload_mb",
    )
    readonly_fields = ("code", "created_at", "updated_at")
    ordering = ("sort_order", "code")

    @admin.display(description="price")
    def price(self, obj: Plan) -> str:
        return f"{cents_to_amount(obj.price_cents)} {obj.currency.upper()} / {obj.period}"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _grant_action(code: str) -> Callable[[Any, HttpRequest, QuerySet], None]:
    def grant(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for company in queryset:
            membership_grant(company=company, plan=code, actor=request.user)
            count += 1
        modeladmin.message_user(request, f"{count} company(ies) now on {code} (granted by hand, not charged).")

    grant.__name__ = f"grant_{code.lower()}"
    return grant


class ReadOnlyAdmin(CompanyScopedAdmin):
    """Rows the API writes; the admin only shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CompanyPlan)
class CompanyPlanAdmin(ReadOnlyAdmin):
    """Every company's plan, its billing state and its usage against the plan's limits."""

    company_field = ""
    list_display = ("name", "plan", "membership_status", "renews_or_ends", "users", "inference_requests")
    list_filter = ("plan",)
    search_fields = ("name", "email")
    fields = ("name", "plan", "membership_status", "renews_or_ends", "payment_method", "usage", "open_requests")
    readonly_fields = fields

    def _membership(self, obj: CompanyPlan) -> Membership | None:
        cache = getattr(obj, "_billing_membership", ...)
        if cache is ...:
            cache = Membership.objects.for_company(obj).select_related("payment_method").first()
            obj._billing_membership = cache  # type: ignore[attr-defined]
        return cache

    @admin.display(description="billing")
    def membership_status(self, obj: CompanyPlan) -> str:
        membership = self._membership(obj)
        return membership.get_status_display() if membership else "no paid plan"

    @admin.display(description="renews / ends")
    def renews_or_ends(self, obj: CompanyPlan) -> str:
        membership = self._membership(obj)
        if membership is None or membership.period_end is None:
            return "-"
        return f"{membership.period_end:%Y-%m-%d}"

    @admin.display(description="payment method")
    def payment_method(self, obj: CompanyPlan) -> str:
        membership = self._membership(obj)
        return str(membership.payment_method) if membership and membership.payment_method else "-"

    def _line(self, obj: CompanyPlan, resource: str) -> str:
        for line in usage_summary(company=obj):
            if line.resource == resource:
                used = "?" if line.used is None else f"{line.used:,}"
                return f"{used} / {'unlimited' if line.limit is None else f'{line.limit:,}'}"
        return "-"

    @admin.display(description="users")
    def users(self, obj: CompanyPlan) -> str:
        return self._line(obj, "users")

    @admin.display(description="inference requests this month")
    def inference_requests(self, obj: CompanyPlan) -> str:
        return self._line(obj, "inference_requests")

    @admin.display(description="usage against limits")
    def usage(self, obj: CompanyPlan) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    line.label,
                    "-" if line.used is None else f"{line.used:,}",
                    "unlimited" if line.limit is None else f"{line.limit:,}",
                )
                for line in usage_summary(company=obj)
            ),
        )
        return format_html(
            "<table><thead><tr><th>resource</th><th>used (this month for meters)</th><th>limit</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="open requests")
    def open_requests(self, obj: CompanyPlan) -> str:
        plans = MembershipRequest.objects.for_company(obj).filter(status=MembershipRequest.STATUS_OPEN)
        return ", ".join(plans.values_list("plan", flat=True)) or "-"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if self._is_global(request):
            for code in PLAN_CODES:
                action: Any = _grant_action(code)
                actions[action.__name__] = (action, action.__name__, f"Grant {code} by hand (no charge)")
        return actions

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_use(request)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "company", "cardholder_name", "exp_month", "exp_year", "is_default", "created_at")
    list_filter = ("is_default", "brand")
    exclude = ("token",)
    readonly_fields = ("company", "processor", "brand", "funding", "issuer", "last4", "exp_month", "exp_year",
                       "cardholder_name", "zip_code", "is_default", "created_at")  # fmt: skip


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "company", "kind", "plan_code", "amount", "status", "next_date")
    list_filter = ("status", "kind", "plan_code")
    readonly_fields = ("company", "kind", "status", "plan_code", "program", "currency", "amount_cents", "fee_cents",
                       "processor", "processor_charge_id", "customer_id", "payment_method", "card", "paid_at",
                       "next_date", "failure_reason", "history", "metadata", "created_at")  # fmt: skip
    exclude = ("tip_cents", "refunded_cents", "cvc_check", "zip_check", "risk_level", "risk_score")

    @admin.display(description="amount")
    def amount(self, obj: Payment) -> str:
        return f"{cents_to_amount(obj.amount_cents)} {obj.currency.upper()}"


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("company", "status", "period_end", "retry_count", "next_retry_at", "payment_method")
    list_filter = ("status",)
    readonly_fields = ("company", "status", "token", "processor_customer_id", "payment_method", "period_start",
                       "period_end", "retry_count", "next_retry_at", "pending_payment")  # fmt: skip


@admin.register(MembershipRequest)
class MembershipRequestAdmin(CompanyScopedAdmin):
    """Requests for staff-arranged plans; operators mark them done (granting is on Company plans)."""

    list_display = ("created_at", "company", "plan", "status", "requested_by")
    list_filter = ("status", "plan")
    readonly_fields = ("company", "plan", "requested_by", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_global(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageCounter)
class UsageCounterAdmin(ReadOnlyAdmin):
    list_display = ("company", "resource", "period_start", "used")
    list_filter = ("resource", "period_start")
