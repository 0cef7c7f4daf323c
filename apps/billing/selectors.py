"""Billing reads, always scoped to the caller's company."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import Company
from apps.billing.models import Membership, Payment, PaymentMethod


def payment_method_list(*, company: Company) -> QuerySet[PaymentMethod]:
    """The company's payment methods, the default first, then the newest."""
    return PaymentMethod.objects.for_company(company).order_by("-is_default", "-created_at")


def payment_list(*, company: Company) -> QuerySet[Payment]:
    """The company's payments, newest first."""
    return Payment.objects.for_company(company).order_by("-created_at")


def membership_get(*, company: Company) -> Membership | None:
    """The company's membership row, when billing has one."""
    return Membership.objects.for_company(company).select_related("payment_method").first()
