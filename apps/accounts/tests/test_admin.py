"""The Django admin: superusers see every company, a staff Company Admin only their own, others nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import ApiKeyPair, Company, User
from apps.accounts.roles import USER
from apps.core.testing import PASSWORD, Tenant

USERS = "/admin/accounts/user/"
COMPANIES = "/admin/accounts/company/"


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist_ids(response: Any) -> set[Any]:
    assert response.status_code == 200, response.status_code
    return {obj.pk for obj in response.context["cl"].queryset}


@pytest.fixture
def superuser(db: Any) -> User:
    return User.objects.create_superuser("root@operator.test", PASSWORD, fname="Root", lname="Operator")


@pytest.fixture
def company_admin(tenant: Tenant) -> Client:
    """The tenant's Company Admin, made staff, signed in to the admin."""
    user = tenant.admin.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return admin_client(user)


def company_users(tenant: Tenant) -> set[Any]:
    return {tenant.admin.user.pk, tenant.manager.user.pk, tenant.user.user.pk}


# --- Superuser ------------------------------------------------------------------------------


def test_superuser_sees_every_company(superuser: User, tenant: Tenant, outsider: Tenant) -> None:
    client = admin_client(superuser)

    users = client.get(USERS)
    assert changelist_ids(users) >= company_users(tenant) | company_users(outsider)
    assert b"admin@acme.test" in users.content
    assert b"admin@globex.test" in users.content

    companies = client.get(COMPANIES)
    assert changelist_ids(companies) == {tenant.company.pk, outsider.company.pk}
    assert b"Globex" in companies.content


def test_plan_is_changed_through_billing_not_the_company_form(superuser: User, outsider: Tenant) -> None:
    client = admin_client(superuser)
    url = f"{COMPANIES}{outsider.company.pk}/change/"
    assert b'name="plan"' not in client.get(url).content
    response = client.post(
        url, {"name": "Globex Two", "plan": "PREMIUM_MONTHLY", "is_active": "on", "bot_styles": "{}", "_save": "Save"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    outsider.company.refresh_from_db()
    assert (outsider.company.name, outsider.company.plan) == ("Globex Two", "NONE")


# --- Staff Company Admin --------------------------------------------------------------------


def test_company_admin_sees_only_their_company(company_admin: Client, tenant: Tenant, outsider: Tenant) -> None:
    users = company_admin.get(USERS)
    assert changelist_ids(users) == company_users(tenant)
    assert b"admin@globex.test" not in users.content
    assert b"Globex" not in users.content  # not even as a list filter choice

    companies = company_admin.get(COMPANIES)
    assert changelist_ids(companies) == {tenant.company.pk}
    assert b"Globex" not in companies.content


def test_company_admin_does_not_see_superusers(superuser: User, company_admin: Client) -> None:
    users = company_admin.get(USERS)
    assert superuser.pk not in changelist_ids(users)
    assert b"root@operator.test" not in users.content


@pytest.mark.parametrize("suffix", ["change/", "delete/", "history/", "password/"])
def test_company_admin_cannot_open_the_outsiders_user(company_admin: Client, outsider: Tenant, suffix: str) -> None:
    response = company_admin.get(f"{USERS}{outsider.user.user.pk}/{suffix}", follow=False)
    assert response.status_code in (302, 404), response.status_code
    if response.status_code == 302:
        assert response["Location"] == "/admin/"
    assert b"user@globex.test" not in response.content


@pytest.mark.parametrize("suffix", ["change/", "history/"])
def test_company_admin_cannot_open_the_outsiders_company(company_admin: Client, outsider: Tenant, suffix: str) -> None:
    response = company_admin.get(f"{COMPANIES}{outsider.company.pk}/{suffix}")
    assert response.status_code in (302, 404), response.status_code
    if response.status_code == 302:
        assert response["Location"] == "/admin/"
    assert b"Globex" not in response.content


def test_company_admin_cannot_change_the_outsiders_user(company_admin: Client, outsider: Tenant) -> None:
    victim = outsider.user.user
    response = company_admin.post(
        f"{USERS}{victim.pk}/change/",
        {"email": victim.email, "fname": "Hijacked", "lname": "X", "is_active": "", "_save": "Save"},
    )
    assert response.status_code != 200
    victim.refresh_from_db()
    assert victim.fname != "Hijacked"
    assert victim.is_active


def test_company_admin_cannot_change_the_outsiders_password(company_admin: Client, outsider: Tenant) -> None:
    victim = outsider.user.user
    response = company_admin.post(
        f"{USERS}{victim.pk}/password/", {"password1": "Takeover-Pa55word!", "password2": "Takeover-Pa55word!"}
    )
    assert response.status_code in (302, 403, 404)
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)


def test_company_admin_cannot_change_plan(company_admin: Client, tenant: Tenant) -> None:
    url = f"{COMPANIES}{tenant.company.pk}/change/"
    page = company_admin.get(url)
    assert page.status_code == 200
    assert b'name="plan"' not in page.content
    assert b'name="is_active"' not in page.content

    response = company_admin.post(
        url,
        {"name": "Acme Renamed", "plan": "ENTERPRISE_YEARLY", "is_active": "", "bot_styles": "{}", "_save": "Save"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    tenant.company.refresh_from_db()
    assert tenant.company.name == "Acme Renamed"
    assert tenant.company.plan == "NONE"
    assert tenant.company.is_active is True


def test_company_admin_cannot_add_or_delete_companies(company_admin: Client, tenant: Tenant) -> None:
    assert company_admin.get(f"{COMPANIES}add/").status_code == 403
    assert company_admin.post(f"{COMPANIES}{tenant.company.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Company.objects.filter(pk=tenant.company.pk).exists()


def _new_user_form(company_id: object, email: str) -> dict[str, object]:
    """The admin's add-user form, naming a company (honoured for superusers only)."""
    return {
        "company": str(company_id),
        "email": email,
        "fname": "New",
        "lname": "Hire",
        "roles": [USER],
        "password1": "Fresh-Start-2024!",
        "password2": "Fresh-Start-2024!",
        "_save": "Save",
    }


def test_company_admin_adds_users_to_their_own_company(company_admin: Client, tenant: Tenant, outsider: Tenant) -> None:
    form = company_admin.get(f"{USERS}add/")
    assert form.status_code == 200
    assert b'name="company"' not in form.content

    response = company_admin.post(f"{USERS}add/", _new_user_form(outsider.company.pk, "New.Hire@Acme.test"))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    created = User.objects.get(email__iexact="new.hire@acme.test")
    assert created.company_id == tenant.company.pk
    assert created.roles == [USER]
    assert created.check_password("Fresh-Start-2024!")
    assert not User.objects.for_company(outsider.company).filter(pk=created.pk).exists()


def test_superuser_adds_users_to_any_company(superuser: User, outsider: Tenant) -> None:
    client = admin_client(superuser)
    assert b'name="company"' in client.get(f"{USERS}add/").content
    response = client.post(f"{USERS}add/", _new_user_form(outsider.company.pk, "hire@globex.test"))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert User.objects.get(email="hire@globex.test").company_id == outsider.company.pk


def test_company_admin_sees_only_their_key_pair(company_admin: Client, tenant: Tenant, outsider: Tenant) -> None:
    response = company_admin.get("/admin/accounts/apikeypair/")
    pairs = response.context["cl"].queryset if response.status_code == 200 else None
    assert pairs is not None
    assert {pair.company_id for pair in pairs} == {tenant.company.pk}
    outsider_pair = ApiKeyPair.objects.get(company=outsider.company)
    assert outsider_pair.prefix.encode() not in response.content
    page = company_admin.get(f"/admin/accounts/apikeypair/{outsider_pair.pk}/change/")
    assert page.status_code in (302, 404)
    assert outsider_pair.prefix.encode() not in page.content


def test_company_admin_cannot_take_over_a_superuser_of_their_company(company_admin: Client, tenant: Tenant) -> None:
    operator = User.objects.create_superuser(
        "operator@acme.test", PASSWORD, fname="Op", lname="Erator", company=tenant.company
    )
    company_admin.post(
        f"{USERS}{operator.pk}/password/",
        {"password1": "Takeover-Pa55word!", "password2": "Takeover-Pa55word!", "usable_password": "true"},
    )
    company_admin.post(f"{USERS}{operator.pk}/delete/", {"post": "yes"})
    operator = User.objects.filter(pk=operator.pk).first()
    assert operator is not None, "the Company Admin deleted a superuser"
    assert operator.check_password(PASSWORD), "the Company Admin set a superuser's password"


def test_company_admin_cannot_make_a_user_superuser(company_admin: Client, tenant: Tenant) -> None:
    page = company_admin.get(f"{USERS}{tenant.user.user.pk}/change/")
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content
    assert b'name="company"' not in page.content


# --- Staff without the role, and Company Admins without staff ---------------------------------


def test_staff_without_company_admin_role_gets_nothing(tenant: Tenant) -> None:
    user = tenant.user.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = admin_client(user)

    index = client.get("/admin/")
    assert index.status_code == 200
    assert index.context["app_list"] == []

    assert client.get(USERS).status_code == 403
    assert client.get(COMPANIES).status_code == 403
    assert client.get(f"{USERS}{tenant.admin.user.pk}/change/").status_code in (302, 403)
    assert client.get(f"{USERS}add/").status_code == 403


def test_staff_company_admin_sees_the_accounts_app(company_admin: Client) -> None:
    index = company_admin.get("/admin/")
    assert index.status_code == 200
    labels = {app["app_label"] for app in index.context["app_list"]}
    assert "accounts" in labels


@pytest.mark.parametrize("path", ["/admin/", USERS, COMPANIES])
def test_non_staff_company_admin_is_sent_to_login(tenant: Tenant, path: str) -> None:
    assert not tenant.admin.user.is_staff
    client = admin_client(tenant.admin.user)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
