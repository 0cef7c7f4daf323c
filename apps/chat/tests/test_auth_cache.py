"""Gateway credentials are remembered per process for GATEWAY_AUTH_CACHE_SECONDS: a logout reaches the
gateway within that bound, and at once when it is 0."""

from __future__ import annotations

import time

import pytest

from apps.accounts.models import ApiKeyPair
from apps.accounts.services.auth import token_resolve, token_revoke
from apps.chat.api.auth import recent_credentials
from apps.chat.completions import _model_resolve, recent_models
from apps.chat.tests.conftest import bearer
from apps.chat.tests.factories import make_provider
from apps.core.exceptions import NotFound
from apps.models_registry.providers.selectors import providers_version
from apps.models_registry.providers.services import provider_update, user_llm_config_save


@pytest.fixture(autouse=True)
def _forget_credentials():
    recent_credentials.clear()
    yield
    recent_credentials.clear()


def test_a_logout_takes_effect_within_the_bound(live, tenant, settings):
    settings.GATEWAY_AUTH_CACHE_SECONDS = 1
    headers = bearer(tenant.user)
    assert live.get("/api/models", headers).status == 200
    token_revoke(payload=token_resolve(raw=tenant.user.token).payload)
    assert live.get("/api/models", headers).status == 200  # remembered, within the bound
    time.sleep(1.1)
    answer = live.get("/api/models", headers)
    assert answer.status == 401 and "logged out" in answer.json()["detail"]


def test_with_no_bound_a_logout_takes_effect_at_once(live, tenant, settings):
    settings.GATEWAY_AUTH_CACHE_SECONDS = 0
    headers = bearer(tenant.user)
    assert live.get("/api/models", headers).status == 200
    token_revoke(payload=token_resolve(raw=tenant.user.token).payload)
    assert live.get("/api/models", headers).status == 401


def test_a_replaced_key_pair_stops_within_the_bound(live, tenant, settings):
    settings.GATEWAY_AUTH_CACHE_SECONDS = 1
    headers = {"X-API-Key": tenant.apikey, "X-Enc-Key": tenant.enckey}
    assert live.get("/api/models", headers).status == 200
    assert live.get("/api/models", {**headers, "X-Enc-Key": "wrong"}).status == 401  # another credential
    ApiKeyPair.objects.filter(company=tenant.company).delete()
    assert live.get("/api/models", headers).status == 200
    time.sleep(1.1)
    assert live.get("/api/models", headers).status == 401


# --- model ids resolved once per providers version ----------------------------------------------------------------


def test_model_ids_are_resolved_again_only_when_providers_change(tenant, django_assert_num_queries, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.GATEWAY_MODEL_CACHE_SECONDS = 60
    recent_models.clear()
    user = tenant.user.user
    provider = make_provider(tenant.company, "http://127.0.0.1:9")
    first = _model_resolve(company=tenant.company, user=user, model_id="acme.gpt")
    assert first.target.api_key == "sk-company-key-0001"
    with django_assert_num_queries(0):
        assert _model_resolve(company=tenant.company, user=user, model_id="acme.gpt") == first
    user_llm_config_save(
        company=tenant.company, actor=user, user_id=user.pk, provider_id=provider.pk, api_key="sk-own-key-5555"
    )
    assert _model_resolve(company=tenant.company, user=user, model_id="acme.gpt").target.api_key == "sk-own-key-5555"
    provider_update(company=tenant.company, actor=None, provider_id=provider.pk, is_active=False)
    with pytest.raises(NotFound):
        _model_resolve(company=tenant.company, user=user, model_id="acme.gpt")


def test_admin_edits_and_deletes_renew_the_providers_version(tenant, outsider, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    provider = make_provider(tenant.company, "http://127.0.0.1:9")
    others = providers_version(company_id=outsider.company.pk)
    before = providers_version(company_id=tenant.company.pk)
    provider.api_endpoint = "http://127.0.0.1:10"
    provider.save()  # what the admin does
    edited = providers_version(company_id=tenant.company.pk)
    assert edited != before
    provider.delete()
    assert providers_version(company_id=tenant.company.pk) not in (before, edited)
    assert providers_version(company_id=outsider.company.pk) == others
