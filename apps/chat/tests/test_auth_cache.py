"""Gateway credentials are remembered per process for GATEWAY_AUTH_CACHE_SECONDS: a logout reaches the
gateway within that bound, and at once when it is 0."""

from __future__ import annotations

import time

import pytest

from apps.accounts.models import ApiKeyPair
from apps.accounts.services.auth import token_resolve, token_revoke
from apps.chat.api.auth import recent_credentials
from apps.chat.tests.conftest import bearer


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
