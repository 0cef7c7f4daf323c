"""Login, logout, key pairs, auth/confirm, MFA and the failed-login lockout, through the HTTP API."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.models import ApiKeyPair, User
from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN
from apps.core.crypto import decrypt_text
from apps.core.testing import PASSWORD, assert_envelope_error, assert_ok

LOGIN = "/api/v1/login"
CONFIRM = "/api/v1/auth/confirm"
ME = "/api/v1/users/me"


def login(client: APIClient, email: str, password: str = PASSWORD, **extra: str):
    return client.post(LOGIN, {"email": email, "password": password, **extra}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- login -------------------------------------------------------------------------------------


def test_login_returns_the_specs_shape_and_a_working_token(anon, tenant):
    body = assert_ok(login(anon, "ADMIN@acme.test"))  # emails are case-insensitive
    assert body["user"] == {
        "groupid": str(tenant.company.pk),
        "userid": str(tenant.admin.user.pk),
        "email": "admin@acme.test",
    }
    me = assert_ok(bearer(body["token"]).get(ME))
    assert me["userid"] == str(tenant.admin.user.pk)
    assert me["roles"] == [COMPANY_ADMIN]
    assert me["groupid"] == str(tenant.company.pk)


@pytest.mark.parametrize(
    ("email", "password"),
    [("admin@acme.test", "wrong-password"), ("nobody@acme.test", PASSWORD)],
)
def test_login_failures_say_login_failed(anon, tenant, email, password):
    assert_envelope_error(login(anon, email, password), 401, "Login failed.")


def test_login_refuses_inactive_users_and_inactive_companies(anon, tenant):
    User.objects.filter(pk=tenant.user.user.pk).update(is_active=False)
    assert_envelope_error(login(anon, "user@acme.test"), 401, "Login failed.")
    tenant.company.is_active = False
    tenant.company.save()
    assert_envelope_error(login(anon, "admin@acme.test"), 401, "Login failed.")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"password": PASSWORD}, "Missing email."),
        ({"email": "admin@acme.test"}, "Missing password."),
        ({"email": ["admin@acme.test"], "password": PASSWORD}, "Invalid email"),
    ],
)
def test_login_validation(anon, tenant, payload, message):
    assert_envelope_error(anon.post(LOGIN, payload, format="json"), 400, message)


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=600)
def test_repeated_failures_lock_the_account_even_for_the_right_password(anon, tenant):
    for _ in range(3):
        assert_envelope_error(login(anon, "admin@acme.test", "nope-nope"), 401)
    locked = login(anon, "admin@acme.test")
    assert_envelope_error(locked, 429, "Too many failed login attempts")
    assert 1 <= int(locked["Retry-After"]) <= 601
    # Another account from the same address is not locked by these failures.
    assert_ok(login(anon, "manager@acme.test"))


@override_settings(LOGIN_MAX_FAILURES=100, LOGIN_MAX_FAILURES_PER_IP=4, LOGIN_LOCKOUT_SECONDS=600)
def test_repeated_failures_from_one_address_lock_that_address(anon, tenant):
    for i in range(4):
        assert_envelope_error(login(anon, f"guess{i}@acme.test", "x"), 401)
    assert_envelope_error(login(anon, "admin@acme.test"), 429)
    other_address = APIClient(REMOTE_ADDR="10.9.9.9")
    assert_ok(login(other_address, "admin@acme.test"))


@override_settings(LOGIN_MAX_FAILURES=3)
def test_a_successful_login_forgets_earlier_failures(anon, tenant):
    for _ in range(2):
        login(anon, "admin@acme.test", "bad")
    assert_ok(login(anon, "admin@acme.test"))
    for _ in range(2):
        assert_envelope_error(login(anon, "admin@acme.test", "bad"), 401)
    assert_ok(login(anon, "admin@acme.test"))


def test_login_with_the_key_pair_gives_a_company_token(anon, tenant):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.apikey, HTTP_X_ENC_KEY=tenant.enckey)
    body = assert_ok(client.post(LOGIN, format="json"))
    assert body["group"]["groupid"] == str(tenant.company.pk)
    confirm = assert_ok(bearer(body["token"]).post(CONFIRM))
    assert confirm["group"]["groupid"] == str(tenant.company.pk)
    assert "user" not in confirm
    # Renewing the keys ends tokens made from the old pair.
    assert_ok(tenant.admin.client.put("/api/v1/toolbox/tools/chats/integrations/renew"))
    assert_envelope_error(bearer(body["token"]).post(CONFIRM), 401)


def test_login_with_a_wrong_key_pair_fails(anon, tenant):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.apikey, HTTP_X_ENC_KEY="wrong")
    assert_envelope_error(client.post(LOGIN, format="json"), 401)


# --- auth/confirm and the two ways to authenticate ----------------------------------------------------


def test_auth_confirm_with_bearer_returns_group_and_user(tenant):
    tenant.company.bot_name = "Robo"
    tenant.company.city = "Springfield"
    tenant.company.save()
    body = assert_ok(tenant.user.client.post(CONFIRM))
    group = body["group"]
    assert group["groupid"] == str(tenant.company.pk)
    assert group["bot"] == {"name": "Robo"}
    assert group["city"] == "Springfield"
    assert group["bot_styles"] == {}
    for key in ("name", "description", "address1", "address2", "state", "zip", "country", "phone", "email", "website"):
        assert key in group
    assert body["user"]["email"] == "user@acme.test"


def test_auth_confirm_with_key_pair_returns_the_group(tenant):
    body = assert_ok(tenant.key_client().post(CONFIRM))
    assert body["group"]["name"] == "Acme"


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer not-a-jwt"},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Bearer a b"},
        {"HTTP_X_API_KEY": "sk_nope.nope", "HTTP_X_ENC_KEY": "nope"},
    ],
)
def test_auth_confirm_refuses_bad_credentials(tenant, credentials):
    client = APIClient()
    client.credentials(**credentials)
    response = client.post(CONFIRM)
    assert_envelope_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_key_without_enc_key_is_refused(tenant):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.apikey)
    assert_envelope_error(client.post(CONFIRM), 401, "X-Enc-Key")


def test_one_companys_api_key_with_anothers_enc_key_is_refused(tenant, outsider):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.apikey, HTTP_X_ENC_KEY=outsider.enckey)
    assert_envelope_error(client.post(CONFIRM), 401)


def test_keys_are_stored_only_as_digests(tenant):
    pair = ApiKeyPair.objects.get(company=tenant.company)
    stored = " ".join(str(getattr(pair, f.attname)) for f in pair._meta.fields)
    assert tenant.apikey not in stored
    assert tenant.enckey not in stored
    assert tenant.apikey.split(".")[1] not in stored


# --- logout ---------------------------------------------------------------------------------------------


def test_logout_ends_this_token_only(anon, tenant):
    first = login(anon, "admin@acme.test").json()["token"]
    second = login(anon, "admin@acme.test").json()["token"]
    body = assert_ok(bearer(first).put("/api/v1/logout"))
    assert body["message"] == "User logged out successfully"
    assert_envelope_error(bearer(first).get(ME), 401)
    assert_ok(bearer(second).get(ME))


def test_logout_all_ends_every_token_of_the_user(anon, tenant):
    tokens = [login(anon, "admin@acme.test").json()["token"] for _ in range(3)]
    body = assert_ok(bearer(tokens[0]).put("/api/v1/logout/all"))
    assert body["message"] == "User logged out of all devices & sessions"
    for token in tokens:
        assert_envelope_error(bearer(token).get(ME), 401)
    assert_ok(tenant.manager.client.get(ME))  # other users keep their sessions
    assert_ok(bearer(login(anon, "admin@acme.test").json()["token"]).get(ME))


@pytest.mark.parametrize("path", ["/api/v1/logout", "/api/v1/logout/all"])
def test_logout_refuses_key_pairs_and_anonymous(anon, tenant, path):
    assert_envelope_error(tenant.key_client().put(path), 403, "Bearer")
    assert_envelope_error(anon.put(path), 401)


def test_logout_needs_put(tenant):
    assert_envelope_error(tenant.admin.client.post("/api/v1/logout"), 405)


# --- integrations: renew and revoke ---------------------------------------------------------------------------


RENEW = "/api/v1/toolbox/tools/chats/integrations/renew"
REVOKE = "/api/v1/toolbox/tools/chats/integrations/revoke"


def test_renew_returns_new_keys_and_the_old_pair_stops_at_once(tenant):
    body = assert_ok(tenant.admin.client.put(RENEW))
    assert body["message"] == "Keys have been revoked and renewed successfully."
    assert body["apikey"] != tenant.apikey
    assert_envelope_error(tenant.key_client().post(CONFIRM), 401)
    fresh = APIClient()
    fresh.credentials(HTTP_X_API_KEY=body["apikey"], HTTP_X_ENC_KEY=body["enckey"])
    assert_ok(fresh.post(CONFIRM))
    assert ApiKeyPair.objects.filter(company=tenant.company).count() == 1


def test_renew_with_the_key_pair_itself(tenant):
    body = assert_ok(tenant.key_client().put(RENEW))
    assert_envelope_error(tenant.key_client().post(CONFIRM), 401)
    assert body["enckey"]


def test_revoke_removes_the_keys(tenant, outsider):
    body = assert_ok(tenant.admin.client.delete(REVOKE))
    assert body["message"] == "Keys have been revoked successfully."
    assert_envelope_error(tenant.key_client().post(CONFIRM), 401)
    assert_ok(outsider.key_client().post(CONFIRM))  # another company's keys are untouched


@pytest.mark.parametrize(("path", "method"), [(RENEW, "put"), (REVOKE, "delete")])
def test_integrations_need_company_admin(anon, tenant, path, method):
    for role in ALL_ROLES:
        if role == COMPANY_ADMIN:
            continue
        member = tenant.member([role])
        assert_envelope_error(getattr(member.client, method)(path), 403)
    assert_envelope_error(getattr(anon, method)(path), 401)
    assert_ok(tenant.key_client().post(CONFIRM))  # nothing changed


# --- MFA -----------------------------------------------------------------------------------------------


def _setup_mfa(member) -> pyotp.TOTP:
    body = assert_ok(member.client.post("/api/v1/users/mfa/setup"))
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert member.user.email.replace("@", "%40") in body["otpauth_uri"]
    return pyotp.TOTP(body["secret"])


def test_mfa_setup_verify_and_login(anon, tenant):
    totp = _setup_mfa(tenant.user)
    user = User.objects.get(pk=tenant.user.user.pk)
    assert not user.usemfa
    assert totp.secret not in user.mfa_pending_secret  # stored encrypted
    assert decrypt_text(user.mfa_pending_secret) == totp.secret

    assert_envelope_error(tenant.user.client.post("/api/v1/users/mfa/verify", {"code": "000000"}), 400)
    assert_ok(tenant.user.client.post("/api/v1/users/mfa/verify", {"code": totp.now()}, format="json"))
    assert User.objects.get(pk=tenant.user.user.pk).usemfa

    needs_code = assert_envelope_error(login(anon, "user@acme.test"), 401, "MFA code required.")
    assert needs_code["mfarequired"] is True
    assert_envelope_error(login(anon, "user@acme.test", mfacode="123456"), 401, "Login failed.")
    previous = totp.at(time.time() - totp.interval)
    # The code used to verify cannot be replayed; a code of the next window is accepted.
    next_code = totp.at(time.time() + totp.interval)
    assert_ok(login(anon, "user@acme.test", mfacode=next_code))
    assert_envelope_error(login(anon, "user@acme.test", mfacode=next_code), 401)
    assert_envelope_error(login(anon, "user@acme.test", mfacode=previous), 401)


def test_mfa_verify_without_setup(tenant):
    assert_envelope_error(tenant.user.client.post("/api/v1/users/mfa/verify", {"code": "123456"}), 400, "setup")


def test_mfa_endpoints_refuse_key_pairs_and_anonymous(anon, tenant):
    for path in ("/api/v1/users/mfa/setup", "/api/v1/users/mfa/verify"):
        assert_envelope_error(tenant.key_client().post(path, {"code": "123456"}), 403)
        assert_envelope_error(anon.post(path, {"code": "123456"}), 401)


def test_mfa_verify_needs_a_code(tenant):
    _setup_mfa(tenant.user)
    assert_envelope_error(tenant.user.client.post("/api/v1/users/mfa/verify", {}, format="json"), 400, "Missing code.")


def test_turning_mfa_off_through_users_save(anon, tenant):
    totp = _setup_mfa(tenant.user)
    assert_ok(tenant.user.client.post("/api/v1/users/mfa/verify", {"code": totp.now()}, format="json"))
    payload = {"email": "user@acme.test", "fname": "U", "lname": "Ser", "usemfa": False}
    assert_ok(tenant.user.client.post("/api/v1/users/save", payload, format="json"))
    assert_ok(login(anon, "user@acme.test"))
