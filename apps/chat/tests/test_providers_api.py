"""/chat/llm-providers and /chat/user-llm-configs: create, read, change, keys kept secret, tenancy."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, MODEL_MANAGER, USER_MANAGER
from apps.core.crypto import decrypt_text
from apps.core.testing import assert_detail_error
from apps.models_registry.providers.models import LLMProvider, UserLLMConfig
from apps.models_registry.providers.services import provider_create

PROVIDERS = "/chat/llm-providers"
CONFIGS = "/chat/user-llm-configs"
NEW = {"name": "azure", "api_endpoint": "https://example.openai.azure.com", "kind": "azure",
       "api_key": "sk-secret-company-key-9876", "api_version": "2024-10-21"}  # fmt: skip


@pytest.fixture
def provider(tenant):
    return provider_create(
        company=tenant.company, actor=None, name="acme", api_endpoint="https://api.example.com", api_key="sk-acme-0000"
    )


# --- providers ---------------------------------------------------------------------------------------------


def test_create_stores_the_key_encrypted_and_never_returns_it(tenant):
    response = tenant.admin.client.post(PROVIDERS, NEW, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("name", "kind", "api_endpoint", "api_version", "has_api_key", "api_key_hint")} == {
        "name": "azure", "kind": "azure", "api_endpoint": "https://example.openai.azure.com",
        "api_version": "2024-10-21", "has_api_key": True, "api_key_hint": "…9876",
    }  # fmt: skip
    assert "sk-secret-company-key-9876" not in response.content.decode()
    stored = LLMProvider.objects.get(pk=body["id"])
    assert stored.company_id == tenant.company.pk
    assert "sk-secret" not in stored.api_key_encrypted
    assert decrypt_text(stored.api_key_encrypted) == "sk-secret-company-key-9876"
    listed = tenant.user.client.get(PROVIDERS).json()
    assert [p["name"] for p in listed] == ["azure"]
    assert "sk-secret" not in str(listed)


def test_who_may_create(anon, tenant):
    assert_detail_error(anon.post(PROVIDERS, NEW, format="json"), 401)
    for role in ALL_ROLES:
        if role in (COMPANY_ADMIN, MODEL_MANAGER):
            continue
        assert_detail_error(tenant.member([role]).client.post(PROVIDERS, NEW, format="json"), 403, "permission")
    assert not LLMProvider.objects.exists()
    assert tenant.member([MODEL_MANAGER]).client.post(PROVIDERS, NEW, format="json").status_code == 201
    assert tenant.key_client().post(PROVIDERS, {**NEW, "name": "other"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Missing name"),
        ({"name": "Has.Dot"}, "Invalid name"),
        ({"name": "builtin"}, "built-in"),
        ({"api_endpoint": "ftp://x"}, "http"),
        ({"api_endpoint": "http://10.0.0.5/v1"}, "private"),
        ({"kind": "bedrock"}, "Invalid kind"),
        ({"allowed_roles": ["Admin"]}, "Invalid allowed_roles"),
    ],
)
def test_invalid_input(tenant, settings, change, message):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    assert_detail_error(tenant.admin.client.post(PROVIDERS, {**NEW, **change}, format="json"), 400, message)
    assert not LLMProvider.objects.exists()


def test_names_are_unique_per_company_only(tenant, outsider, provider):
    assert_detail_error(tenant.admin.client.post(PROVIDERS, {**NEW, "name": "acme"}, format="json"), 409, "exists")
    assert outsider.admin.client.post(PROVIDERS, {**NEW, "name": "acme"}, format="json").status_code == 201


def test_get_one_and_other_companies_ids(tenant, outsider, provider):
    body = tenant.user.client.get(f"{PROVIDERS}/{provider.pk}").json()
    assert (body["id"], body["name"], body["api_key_hint"]) == (str(provider.pk), "acme", "…0000")
    assert_detail_error(outsider.admin.client.get(f"{PROVIDERS}/{provider.pk}"), 404, "not found")
    assert_detail_error(tenant.admin.client.get(f"{PROVIDERS}/not-a-uuid"), 404)
    assert_detail_error(tenant.admin.client.get(f"{PROVIDERS}/{uuid.uuid4()}"), 404)
    assert outsider.admin.client.get(PROVIDERS).json() == []


def test_update_and_delete(tenant, outsider, provider):
    url = f"{PROVIDERS}/{provider.pk}"
    assert_detail_error(tenant.user.client.patch(url, {"api_key": "x"}, format="json"), 403)
    assert_detail_error(outsider.admin.client.patch(url, {"api_key": "sk-evil-1234"}, format="json"), 404)
    assert_detail_error(outsider.admin.client.delete(url), 404)
    body = tenant.admin.client.patch(
        url, {"api_key": "sk-new-key-4321", "allowed_roles": [USER_MANAGER]}, format="json"
    ).json()
    assert (body["api_key_hint"], body["allowed_roles"]) == ("…4321", [USER_MANAGER])
    provider.refresh_from_db()
    assert decrypt_text(provider.api_key_encrypted) == "sk-new-key-4321"
    assert tenant.admin.client.patch(url, {"api_key": ""}, format="json").json()["has_api_key"] is False
    assert tenant.admin.client.delete(url).status_code == 204
    assert not LLMProvider.objects.exists()


# --- user keys -------------------------------------------------------------------------------------------------


def test_a_user_sets_their_own_key(tenant, provider):
    payload = {"user_id": str(tenant.user.user.pk), "provider_id": str(provider.pk), "api_key": "sk-mine-1111"}
    response = tenant.user.client.post(CONFIGS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["user_id"], body["provider_id"], body["api_key_hint"]) == (
        payload["user_id"],
        payload["provider_id"],
        "…1111",
    )
    assert "sk-mine-1111" not in response.content.decode()
    again = tenant.user.client.post(CONFIGS, {**payload, "api_key": "sk-mine-2222"}, format="json")
    assert again.status_code == 200 and again.json()["api_key_hint"] == "…2222"
    config = UserLLMConfig.objects.get()
    assert decrypt_text(config.api_key_encrypted) == "sk-mine-2222"
    got = tenant.user.client.get(f"{CONFIGS}/{payload['user_id']}/{payload['provider_id']}")
    assert got.status_code == 200 and got.json()["id"] == body["id"]
    assert "sk-mine" not in got.content.decode()


def test_only_admins_set_or_see_other_users_keys(anon, tenant, provider):
    target = tenant.manager.user  # a User Manager may manage others; a plain user may not
    payload = {"user_id": str(tenant.admin.user.pk), "provider_id": str(provider.pk), "api_key": "sk-theirs-1"}
    assert_detail_error(anon.post(CONFIGS, payload, format="json"), 401)
    assert_detail_error(tenant.user.client.post(CONFIGS, payload, format="json"), 403, "own keys")
    assert not UserLLMConfig.objects.exists()
    payload["user_id"] = str(target.pk)
    assert tenant.admin.client.post(CONFIGS, payload, format="json").status_code == 201
    url = f"{CONFIGS}/{target.pk}/{provider.pk}"
    assert_detail_error(tenant.user.client.get(url), 404)
    assert tenant.manager.client.get(url).status_code == 200
    assert tenant.key_client().get(url).status_code == 200


def test_other_companies_users_and_providers_are_not_found(tenant, outsider, provider):
    theirs = provider_create(company=outsider.company, actor=None, name="globex", api_endpoint="https://g.example.com")
    for user_id, provider_id in (
        (outsider.user.user.pk, provider.pk),
        (tenant.user.user.pk, theirs.pk),
        ("garbage", provider.pk),
    ):
        payload = {"user_id": str(user_id), "provider_id": str(provider_id), "api_key": "sk-x-12345678"}
        assert_detail_error(tenant.admin.client.post(CONFIGS, payload, format="json"), 404, "not found")
    assert not UserLLMConfig.objects.exists()
    assert_detail_error(tenant.admin.client.get(f"{CONFIGS}/{tenant.user.user.pk}/{provider.pk}"), 404)


def test_missing_key_is_400(tenant, provider):
    payload = {"user_id": str(tenant.user.user.pk), "provider_id": str(provider.pk)}
    assert_detail_error(tenant.user.client.post(CONFIGS, payload, format="json"), 400, "Missing api_key")


def test_removing_a_users_key(tenant, provider):
    payload = {"user_id": str(tenant.user.user.pk), "provider_id": str(provider.pk), "api_key": "sk-mine-1111"}
    tenant.user.client.post(CONFIGS, payload, format="json")
    url = f"{CONFIGS}/{tenant.user.user.pk}/{provider.pk}"
    assert_detail_error(tenant.manager.client.delete(f"{CONFIGS}/{tenant.admin.user.pk}/{provider.pk}"), 404)
    assert tenant.user.client.delete(url).status_code == 204
    assert not UserLLMConfig.objects.exists()
