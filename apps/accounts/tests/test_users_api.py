"""Signup, email confirmation, users/me, users/save and users/updatepassword, through the HTTP API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Company, EmailConfirmation, User
from apps.accounts.roles import COMPANY_ADMIN
from apps.core.testing import PASSWORD, assert_envelope_error, assert_ok

SIGNUP = "/api/v1/signup"
RESEND = "/api/v1/confirmation/resend"
CONFIRM_EMAIL = "/api/v1/confirmation/confirm"
ME = "/api/v1/users/me"
SAVE = "/api/v1/users/save"
UPDATE_PASSWORD = "/api/v1/users/updatepassword"

NEW = {
    "fname": "John",
    "lname": "Doe",
    "email": "John.Doe@Example.com",
    "password1": "SecurePassword123",
    "password2": "SecurePassword123",
}


def mailed_code(to: str) -> str:
    messages = [m for m in mail.outbox if to in m.to]
    assert messages, f"no mail to {to}"
    match = re.search(r"\b(\d{6})\b", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


@pytest.fixture
def signed_up(anon, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon.post(SIGNUP, NEW, format="json")
    return response


# --- signup --------------------------------------------------------------------------------------


def test_signup_creates_a_company_with_the_user_as_its_admin(signed_up):
    body = assert_ok(signed_up, status=201)
    assert body["message"].startswith("A confirmation email has been sent")
    assert body["user"]["email"] == "john.doe@example.com"
    assert body["user"]["fname"] == "John"
    user = User.objects.get(pk=body["user"]["userid"])
    assert user.roles == [COMPANY_ADMIN]
    assert not user.email_confirmed
    assert user.company.name == "John Doe"
    assert user.check_password("SecurePassword123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    me = assert_ok(client.get(ME))
    assert me["groupid"] == str(user.company_id)
    assert me["emailconfirmed"] is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["john.doe@example.com"]


def test_signup_then_confirm_with_the_emailed_code(signed_up, anon):
    code = mailed_code("john.doe@example.com")
    assert_envelope_error(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": "000000"}, format="json"), 400)
    body = assert_ok(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": code}, format="json"))
    assert "confirmed" in body["message"]
    assert User.objects.get(email="john.doe@example.com").email_confirmed
    assert not EmailConfirmation.objects.exists()


@override_settings(CONFIRMATION_MAX_ATTEMPTS=2)
def test_wrong_codes_spend_the_confirmation_code(signed_up, anon):
    code = mailed_code("john.doe@example.com")
    for _ in range(2):
        assert_envelope_error(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": "999999"}), 400)
    assert_envelope_error(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": code}), 400, "Too many")


def test_expired_confirmation_codes_are_refused(signed_up, anon):
    code = mailed_code("john.doe@example.com")
    EmailConfirmation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_envelope_error(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": code}), 400, "expired")


def test_signup_with_an_email_in_use_in_any_case(signed_up, anon):
    again = {**NEW, "email": "JOHN.DOE@example.COM"}
    assert_envelope_error(anon.post(SIGNUP, again, format="json"), 409, "already in use")
    assert Company.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"password2": "SecurePassword124"}, "Passwords do not match."),
        ({"password1": "123", "password2": "123"}, "Invalid password"),
        ({"password1": "password", "password2": "password"}, "too common"),
        ({"fname": ""}, "fname"),
        ({"lname": None}, "lname"),
    ],
)
def test_signup_validation(anon, db, change, message):
    assert_envelope_error(anon.post(SIGNUP, {**NEW, **change}, format="json"), 400, message)
    assert not User.objects.exists()
    assert not Company.objects.exists()
    assert not mail.outbox


# --- confirmation/resend -------------------------------------------------------------------------------------


@override_settings(CONFIRMATION_RESEND_SECONDS=0)
def test_resend_sends_a_new_code_and_the_old_one_stops(signed_up, anon, django_capture_on_commit_callbacks):
    first = mailed_code("john.doe@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        body = assert_ok(anon.post(RESEND, {"email": "john.doe@example.com"}, format="json"))
    assert body["message"].startswith("A confirmation code has been sent")
    second = mailed_code("john.doe@example.com")
    assert len(mail.outbox) == 2
    if first != second:
        assert_envelope_error(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": first}), 400)
    assert_ok(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": second}))


def test_resend_too_soon_is_rate_limited(signed_up, anon):
    response = anon.post(RESEND, {"email": "john.doe@example.com"}, format="json")
    assert_envelope_error(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_resend_answers_alike_for_unknown_and_confirmed_addresses(anon, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = assert_ok(anon.post(RESEND, {"email": "nobody@nowhere.test"}, format="json"))
        confirmed = assert_ok(anon.post(RESEND, {"email": "admin@acme.test"}, format="json"))
    assert unknown["message"] == confirmed["message"]
    assert not mail.outbox


def test_resend_needs_an_email(anon, db):
    assert_envelope_error(anon.post(RESEND, {}, format="json"), 400, "Missing email.")


# --- users/me ---------------------------------------------------------------------------------------------------


def test_me_has_the_spec_fields_plus_roles_and_group(tenant):
    body = assert_ok(tenant.manager.client.get(ME))
    assert body["userid"] == str(tenant.manager.user.pk)
    assert body["email"] == "manager@acme.test"
    assert body["fname"] == "Ada"
    assert body["roles"] == ["User Manager"]
    assert body["groupid"] == str(tenant.company.pk)


def test_me_needs_a_person(anon, tenant):
    assert_envelope_error(anon.get(ME), 401)
    assert_envelope_error(tenant.key_client().get(ME), 403)


# --- users/save ---------------------------------------------------------------------------------------------------


def test_users_save_updates_the_own_profile(tenant):
    payload = {"email": "user@acme.test", "fname": "Grace", "lname": "Hopper"}
    body = assert_ok(tenant.user.client.post(SAVE, payload, format="json"))
    assert body["message"] == "Settings saved successfully."
    user = User.objects.get(pk=tenant.user.user.pk)
    assert (user.fname, user.lname) == ("Grace", "Hopper")


def test_users_save_group_fields_as_company_admin(tenant, outsider):
    payload = {
        "email": "admin@acme.test",
        "fname": "A",
        "lname": "B",
        "group.name": "Acme Corp",
        "group.bot.name": "Acme Bot",
        "group.city": "Springfield",
        "group.industry": "Technology",
        "group.email": "office@acme.test",
    }
    assert_ok(tenant.admin.client.post(SAVE, payload, format="json"))
    company = Company.objects.get(pk=tenant.company.pk)
    assert (company.name, company.bot_name, company.city, company.industry) == (
        "Acme Corp",
        "Acme Bot",
        "Springfield",
        "Technology",
    )
    assert Company.objects.get(pk=outsider.company.pk).name == "Globex"
    confirm = assert_ok(tenant.admin.client.post("/api/v1/auth/confirm"))
    assert confirm["group"]["bot"]["name"] == "Acme Bot"


def test_users_save_accepts_a_nested_group_object(tenant):
    group = {"name": "Nested", "bot": {"name": "N"}}
    payload = {"email": "admin@acme.test", "fname": "A", "lname": "B", "group": group}
    assert_ok(tenant.admin.client.post(SAVE, payload, format="json"))
    assert Company.objects.get(pk=tenant.company.pk).bot_name == "N"


def test_users_save_group_fields_need_company_admin(tenant):
    payload = {"email": "manager@acme.test", "fname": "A", "lname": "B", "group.name": "Hijacked"}
    assert_envelope_error(tenant.manager.client.post(SAVE, payload, format="json"), 403, "Company Admin")
    assert Company.objects.get(pk=tenant.company.pk).name == "Acme"
    assert User.objects.get(pk=tenant.manager.user.pk).fname == "Ada"  # nothing half-saved


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"email": ""}, 400, "Missing email."),
        ({"email": "admin@ACME.test"}, 409, "already in use"),
        ({"fname": ""}, 400, "fname"),
        ({"usemfa": True}, 400, "mfa/setup"),
        ({"group.website": "not a url"}, 400, "group.website"),
    ],
)
def test_users_save_validation(tenant, change, status, message):
    payload = {"email": "user@acme.test", "fname": "A", "lname": "B", **change}
    assert_envelope_error(tenant.user.client.post(SAVE, payload, format="json"), status, message)
    assert User.objects.get(pk=tenant.user.user.pk).fname == "Ada"


def test_users_save_changing_email_asks_for_confirmation_again(tenant, django_capture_on_commit_callbacks):
    payload = {"email": "NEW@acme.test", "fname": "A", "lname": "B"}
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(tenant.user.client.post(SAVE, payload, format="json"))
    user = User.objects.get(pk=tenant.user.user.pk)
    assert user.email == "new@acme.test"
    assert not user.email_confirmed
    assert mailed_code("new@acme.test")


def test_users_save_refuses_key_pairs(tenant):
    payload = {"email": "admin@acme.test", "fname": "A", "lname": "B"}
    assert_envelope_error(tenant.key_client().post(SAVE, payload, format="json"), 403)


# --- users/updatepassword ---------------------------------------------------------------------------------------------


def test_update_password_returns_a_fresh_token_and_ends_the_old_ones(anon, tenant):
    payload = {"currentPassword": PASSWORD, "password1": "NewSecurePassword123!", "password2": "NewSecurePassword123!"}
    body = assert_ok(tenant.user.client.post(UPDATE_PASSWORD, payload, format="json"))
    assert body["user"]["userid"] == str(tenant.user.user.pk)
    assert_envelope_error(tenant.user.client.get(ME), 401)
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert_ok(fresh.get(ME))
    assert_ok(anon.post("/api/v1/login", {"email": "user@acme.test", "password": "NewSecurePassword123!"}))


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"currentPassword": "bad", "password1": "NewSecure123!", "password2": "NewSecure123!"}, 401, "Login failed."),
        ({"currentPassword": PASSWORD, "password1": "NewSecure123!", "password2": "Other123!!"}, 400, "do not match"),
        ({"currentPassword": PASSWORD, "password1": "short", "password2": "short"}, 400, "Invalid password"),
        ({"password1": "NewSecure123!", "password2": "NewSecure123!"}, 400, "Missing currentPassword."),
    ],
)
def test_update_password_failures(tenant, payload, status, message):
    assert_envelope_error(tenant.user.client.post(UPDATE_PASSWORD, payload, format="json"), status, message)
    assert User.objects.get(pk=tenant.user.user.pk).check_password(PASSWORD)


def test_update_password_refuses_key_pairs(tenant):
    payload = {"currentPassword": PASSWORD, "password1": "NewSecure123!", "password2": "NewSecure123!"}
    assert_envelope_error(tenant.key_client().post(UPDATE_PASSWORD, payload, format="json"), 403)


# --- a real worker sends the confirmation email ----------------------------------------------------------


@pytest.mark.worker
def test_signup_mail_goes_through_a_real_celery_worker(celery_worker, anon):
    from apps.core.testing import wait_for

    assert_ok(anon.post(SIGNUP, NEW, format="json"), status=201)
    mails = wait_for(celery_worker.mails, timeout=30)
    assert "john.doe@example.com" in mails[0]
    code = re.search(r"confirmation code is (\d{6})", mails[0]).group(1)
    assert_ok(anon.post(CONFIRM_EMAIL, {"email": NEW["email"], "code": code}, format="json"))
    assert not mail.outbox  # it was not sent in this process
