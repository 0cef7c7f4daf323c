"""Billing admin: the plan catalogue is the operators', each company's plan and usage is shown, plans are granted."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import Company, User
from apps.billing.models import Membership, Plan
from apps.billing.tests.helpers import enrol
from apps.core.testing import PASSWORD, Tenant

PLANS = "/admin/billing/plan/"
COMPANY_PLANS = "/admin/billing/companyplan/"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db: Any) -> User:
    return User.objects.create_superuser("root@operator.test", PASSWORD, fname="Root", lname="Operator")


@pytest.fixture
def staff_admin(tenant: Tenant) -> Client:
    user = tenant.admin.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return logged_in(user)


def test_the_catalogue_is_loaded_and_editable_by_operators(superuser):
    assert set(Plan.objects.values_list("code", flat=True)) == {
        "NONE",
        "STANDARD_MONTHLY",
        "STANDARD_YEARLY",
        "PREMIUM_MONTHLY",
        "PREMIUM_YEARLY",
        "ENTERPRISE_MONTHLY",
        "ENTERPRISE_YEARLY",
    }
    client = logged_in(superuser)
    listing = client.get(PLANS)
    assert listing.status_code == 200 and b"PREMIUM_YEARLY" in listing.content and b"490 USD / year" in listing.content
    plan = Plan.objects.get(code="STANDARD_MONTHLY")
    form = {
        "name": "Standard (monthly)",
        "program": "standard",
        "price_cents": "1500",
        "currency": "usd",
        "period": "month",
        "self_service": "on",
        "max_users": "30",
        "max_active_activities": "5",
        "max_models": "10",
        "max_inference_requests_per_month": "50000",
        "max_tokens_per_month": "",
        "max_transcription_minutes_per_month": "600",
        "max_upload_mb": "50",
        "sort_order": "10",
    }
    response = client.post(f"{PLANS}{plan.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    plan.refresh_from_db()
    assert (plan.price_cents, plan.max_users, plan.max_tokens_per_month) == (1500, 30, None)


def test_company_staff_cannot_see_the_catalogue(staff_admin):
    assert staff_admin.get(PLANS).status_code == 403


def test_each_company_s_plan_and_usage_against_limits(superuser, tenant, outsider):
    enrol(tenant)
    client = logged_in(superuser)
    listing = client.get(COMPANY_PLANS)
    assert listing.status_code == 200
    assert {obj.pk for obj in listing.context["cl"].queryset} == {tenant.company.pk, outsider.company.pk}
    text = listing.content.decode()
    assert "STANDARD_MONTHLY" in text and "3 / 25" in text and "3 / 10" in text
    detail = client.get(f"{COMPANY_PLANS}{tenant.company.pk}/change/").content.decode()
    assert "Usage against limits" in detail and "transcription minutes" in detail and "600" in detail
    assert "Visa •••• 4242" in detail


def test_an_operator_grants_a_plan_by_hand(superuser, tenant, outsider):
    client = logged_in(superuser)
    response = client.post(
        COMPANY_PLANS,
        {"action": "grant_enterprise_yearly", "_selected_action": [str(tenant.company.pk)]},
    )
    assert response.status_code == 302
    assert Company.objects.get(pk=tenant.company.pk).plan == "ENTERPRISE_YEARLY"
    membership = Membership.objects.get(company=tenant.company)
    assert (membership.status, membership.period_end) == (Membership.STATUS_GRANTED, None)
    assert Company.objects.get(pk=outsider.company.pk).plan == "NONE"
    client.post(COMPANY_PLANS, {"action": "grant_none", "_selected_action": [str(tenant.company.pk)]})
    assert Company.objects.get(pk=tenant.company.pk).plan == "NONE"


def test_company_staff_see_only_their_plan_and_cannot_grant(staff_admin, tenant, outsider):
    listing = staff_admin.get(COMPANY_PLANS)
    assert listing.status_code == 200
    assert {obj.pk for obj in listing.context["cl"].queryset} == {tenant.company.pk}
    response = staff_admin.post(
        COMPANY_PLANS, {"action": "grant_enterprise_yearly", "_selected_action": [str(tenant.company.pk)]}
    )
    assert Company.objects.get(pk=tenant.company.pk).plan == "NONE"
    assert response.status_code in (200, 302)
    assert staff_admin.get(f"{COMPANY_PLANS}{outsider.company.pk}/change/").status_code == 302  # not theirs


def test_payments_and_methods_are_listed_read_only_per_company(superuser, staff_admin, tenant, outsider):
    enrol(tenant)
    enrol(outsider)
    assert len(logged_in(superuser).get("/admin/billing/payment/").context["cl"].queryset) == 2
    mine = staff_admin.get("/admin/billing/payment/").context["cl"].queryset
    assert {p.company_id for p in mine} == {tenant.company.pk}
    methods = staff_admin.get("/admin/billing/paymentmethod/")
    assert {m.company_id for m in methods.context["cl"].queryset} == {tenant.company.pk}
    assert b"tok_sbx_" not in methods.content
