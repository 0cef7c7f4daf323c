"""The company's members: chats/group/get, save and delete, with roles and other companies' ids."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail

from apps.accounts.models import ApiKeyPair, User
from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, USER, USER_MANAGER
from apps.core.testing import assert_envelope_error, assert_ok

GET = "/api/v1/toolbox/tools/chats/group/get"
SAVE = "/api/v1/toolbox/tools/chats/group/save"
DELETE = "/api/v1/toolbox/tools/chats/group/delete"

NEW_USER = {
    "email": "newuser@web.com",
    "fname": "John",
    "lname": "Doe",
    "password": "SecurePassword123",
    "password2": "SecurePassword123",
    "roles": ["User"],
    "isactive": True,
    "usemfa": False,
}


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [("get", GET, None), ("post", SAVE, NEW_USER), ("delete", DELETE, {"users": [str(uuid.uuid4())]})],
)
def test_roles_anonymous_and_key_pairs(anon, tenant, method, path, payload):
    assert_envelope_error(getattr(anon, method)(path, payload, format="json"), 401)
    for role in ALL_ROLES:
        if role in (COMPANY_ADMIN, USER_MANAGER):
            continue
        member = tenant.member([role])
        assert_envelope_error(getattr(member.client, method)(path, payload, format="json"), 403, "permission")
    assert not User.objects.filter(email="newuser@web.com").exists()


# --- get ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_get_lists_only_the_companys_users(tenant, outsider, who):
    body = assert_ok(getattr(tenant, who).client.get(GET))
    emails = [u["email"] for u in body["users"]]
    assert emails == ["admin@acme.test", "manager@acme.test", "user@acme.test"]
    first = body["users"][0]
    assert first["userid"] == str(tenant.admin.user.pk)
    assert first["roles"] == [COMPANY_ADMIN]


def test_get_with_the_key_pair(tenant):
    body = assert_ok(tenant.key_client().get(GET))
    assert len(body["users"]) == 3


# --- save: create ------------------------------------------------------------------------------------


def test_save_creates_a_user_in_the_callers_company(anon, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = assert_ok(tenant.manager.client.post(SAVE, NEW_USER, format="json"))
    assert body["message"] == "Settings saved successfully."
    user = User.objects.get(pk=body["userid"])
    assert user.company_id == tenant.company.pk
    assert user.roles == [USER]
    assert user.is_active
    assert mail.outbox[0].to == ["newuser@web.com"]
    assert_ok(anon.post("/api/v1/login", {"email": "newuser@web.com", "password": "SecurePassword123"}))


def test_save_defaults_roles_to_user(tenant):
    payload = {k: v for k, v in NEW_USER.items() if k != "roles"}
    body = assert_ok(tenant.admin.client.post(SAVE, payload, format="json"))
    assert User.objects.get(pk=body["userid"]).roles == [USER]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"email": None}, 400, "Missing email."),
        ({"fname": ""}, 400, "Missing fname."),
        ({"password": None, "password2": None}, 400, "Missing password."),
        ({"password2": "Mismatch123!!"}, 400, "do not match"),
        ({"password": "abc", "password2": "abc"}, 400, "Invalid password"),
        ({"roles": ["Admin"]}, 400, "Valid roles: Company Admin, User Manager"),
        ({"roles": "User"}, 400, "roles"),
        ({"email": "ADMIN@acme.test"}, 409, "already in use"),
        ({"usemfa": True}, 400, "MFA"),
        ({"isactive": "maybe"}, 400, "isactive"),
    ],
)
def test_save_create_validation(tenant, change, status, message):
    payload = {k: v for k, v in {**NEW_USER, **change}.items() if v is not None}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), status, message)
    assert User.objects.filter(company=tenant.company).count() == 3


def test_email_is_unique_across_companies(tenant, outsider):
    payload = {**NEW_USER, "email": "user@globex.test"}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 409)


# --- save: update -------------------------------------------------------------------------------------------


def test_save_updates_a_user(tenant):
    payload = {
        "userid": str(tenant.user.user.pk),
        "email": "updateduser@web.com",
        "fname": "Jane",
        "lname": "Doe",
        "roles": ["Model Manager", "User"],
        "isactive": True,
    }
    body = assert_ok(tenant.manager.client.post(SAVE, payload, format="json"))
    assert body["userid"] == str(tenant.user.user.pk)
    user = User.objects.get(pk=tenant.user.user.pk)
    assert (user.email, user.fname, user.roles) == ("updateduser@web.com", "Jane", ["Model Manager", "User"])


def test_deactivating_a_user_ends_their_access(tenant):
    payload = {"userid": str(tenant.user.user.pk), "email": "user@acme.test", "fname": "A", "lname": "B"}
    assert_ok(tenant.admin.client.post(SAVE, {**payload, "isactive": False}, format="json"))
    assert_envelope_error(tenant.user.client.get("/api/v1/users/me"), 401)


def test_setting_a_password_ends_the_users_tokens(tenant):
    payload = {"userid": str(tenant.user.user.pk), "email": "user@acme.test", "fname": "A", "lname": "B"}
    assert_ok(tenant.admin.client.post(SAVE, {**payload, "password": "Reset-Passw0rd!"}, format="json"))
    assert_envelope_error(tenant.user.client.get("/api/v1/users/me"), 401)


def test_save_another_companys_user_is_not_found(tenant, outsider):
    payload = {"userid": str(outsider.user.user.pk), "email": "user@globex.test", "fname": "X", "lname": "Y"}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 404, "User not found.")
    unknown = {**payload, "userid": str(uuid.uuid4())}
    assert_envelope_error(tenant.admin.client.post(SAVE, unknown, format="json"), 404, "User not found.")
    garbage = {**payload, "userid": "not-a-uuid"}
    assert_envelope_error(tenant.admin.client.post(SAVE, garbage, format="json"), 404, "User not found.")
    assert User.objects.get(pk=outsider.user.user.pk).fname == "Ada"


def test_user_manager_cannot_make_or_touch_company_admins(tenant):
    grant = {**NEW_USER, "roles": [COMPANY_ADMIN]}
    assert_envelope_error(tenant.manager.client.post(SAVE, grant, format="json"), 403, "Company Admin")
    promote = {
        "userid": str(tenant.manager.user.pk),
        "email": "manager@acme.test",
        "fname": "A",
        "lname": "B",
        "roles": [COMPANY_ADMIN],
    }
    assert_envelope_error(tenant.manager.client.post(SAVE, promote, format="json"), 403)
    edit_admin = {"userid": str(tenant.admin.user.pk), "email": "admin@acme.test", "fname": "X", "lname": "Y"}
    assert_envelope_error(tenant.manager.client.post(SAVE, edit_admin, format="json"), 403)
    assert User.objects.get(pk=tenant.manager.user.pk).roles == [USER_MANAGER]
    assert_ok(tenant.admin.client.post(SAVE, promote, format="json"))  # a Company Admin may


def test_the_last_company_admin_cannot_demote_or_deactivate_themself(tenant):
    me = {"userid": str(tenant.admin.user.pk), "email": "admin@acme.test", "fname": "A", "lname": "B"}
    assert_envelope_error(tenant.admin.client.post(SAVE, {**me, "roles": [USER]}, format="json"), 400, "Company Admin")
    assert_envelope_error(tenant.admin.client.post(SAVE, {**me, "isactive": False}, format="json"), 400)
    assert User.objects.get(pk=tenant.admin.user.pk).roles == [COMPANY_ADMIN]


# --- delete ---------------------------------------------------------------------------------------------------


def test_delete_removes_users_and_their_data(tenant, outsider):
    extra = tenant.member([USER])
    ApiKeyPair.objects.filter(company=tenant.company).update(created_by=extra.user)
    body = assert_ok(
        tenant.manager.client.delete(DELETE, {"users": [str(tenant.user.user.pk), str(extra.user.pk)]}, format="json")
    )
    assert body["message"] == "Users deleted successfully."
    assert not User.objects.filter(pk__in=[tenant.user.user.pk, extra.user.pk]).exists()
    assert ApiKeyPair.objects.get(company=tenant.company).created_by is None
    assert_envelope_error(extra.client.get("/api/v1/users/me"), 401)
    assert User.objects.filter(company=outsider.company).count() == 3


def test_delete_accepts_query_parameters(tenant):
    response = tenant.admin.client.delete(f"{DELETE}?users={tenant.user.user.pk}")
    assert_ok(response)
    assert not User.objects.filter(pk=tenant.user.user.pk).exists()


def test_delete_is_all_or_nothing_with_another_companys_id(tenant, outsider):
    ids = [str(tenant.user.user.pk), str(outsider.user.user.pk)]
    assert_envelope_error(tenant.admin.client.delete(DELETE, {"users": ids}, format="json"), 404, "User not found")
    assert User.objects.filter(pk=tenant.user.user.pk).exists()
    assert User.objects.filter(pk=outsider.user.user.pk).exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [({}, "Missing users."), ({"users": []}, "users"), ({"users": "abc"}, "users")],
)
def test_delete_validation(tenant, payload, message):
    assert_envelope_error(tenant.admin.client.delete(DELETE, payload, format="json"), 400, message)


def test_delete_refuses_own_account_and_user_manager_deleting_an_admin(tenant):
    assert_envelope_error(
        tenant.admin.client.delete(DELETE, {"users": [str(tenant.admin.user.pk)]}, format="json"), 400, "own account"
    )
    assert_envelope_error(
        tenant.manager.client.delete(DELETE, {"users": [str(tenant.admin.user.pk)]}, format="json"), 403
    )
    assert User.objects.filter(pk=tenant.admin.user.pk).exists()


def test_key_pair_may_delete_an_admin_only_while_another_remains(tenant):
    other_admin = tenant.member([COMPANY_ADMIN])
    client = tenant.key_client()
    assert_ok(client.delete(DELETE, {"users": [str(other_admin.user.pk)]}, format="json"))
    assert_envelope_error(client.delete(DELETE, {"users": [str(tenant.admin.user.pk)]}, format="json"), 400)


def test_operator_accounts_in_the_company_are_not_the_companys_to_manage(tenant):
    operator = User.objects.create_superuser("ops@acme.test", "Op3rator-Passw0rd!", fname="O", lname="P")
    User.objects.filter(pk=operator.pk).update(company=tenant.company)
    listed = assert_ok(tenant.admin.client.get(GET))
    assert "ops@acme.test" not in [u["email"] for u in listed["users"]]
    reset = {
        "userid": str(operator.pk),
        "email": "ops@acme.test",
        "fname": "O",
        "lname": "P",
        "password": "Taken0ver!!",
    }
    assert_envelope_error(tenant.admin.client.post(SAVE, reset, format="json"), 404)
    assert_envelope_error(tenant.admin.client.delete(DELETE, {"users": [str(operator.pk)]}, format="json"), 404)
    assert User.objects.get(pk=operator.pk).check_password("Op3rator-Passw0rd!")
