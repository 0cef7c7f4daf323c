"""Core units: secrets, environment helpers, company scoping and the health report."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from rest_framework.test import APIClient

from apps.accounts.models import ApiKeyPair, Company, User
from apps.core import crypto
from apps.core import views as core_views
from apps.core.testing import Tenant
from config.env import env_bool, env_int, env_list, env_str

# --- Encryption -----------------------------------------------------------------------------


def _key() -> str:
    return Fernet.generate_key().decode()


def test_encrypt_round_trip_with_a_configured_key(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = _key()
    token = crypto.encrypt_text("JBSWY3DPEHPK3PXP")
    assert token != "JBSWY3DPEHPK3PXP"
    assert "JBSWY3DPEHPK3PXP" not in token
    assert crypto.decrypt_text(token) == "JBSWY3DPEHPK3PXP"


def test_encrypt_round_trip_with_the_key_derived_from_secret_key(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = ""
    token = crypto.encrypt_text("sk-provider-ünïcode")
    assert crypto.decrypt_text(token) == "sk-provider-ünïcode"


def test_encryption_is_randomised(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = _key()
    assert crypto.encrypt_text("same") != crypto.encrypt_text("same")


def test_decrypting_with_another_key_raises_value_error(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = _key()
    token = crypto.encrypt_text("secret")
    settings.FIELD_ENCRYPTION_KEY = _key()
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt_text(token)


def test_derived_key_changes_with_secret_key(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = ""
    token = crypto.encrypt_text("secret")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
    with pytest.raises(ValueError):
        crypto.decrypt_text(token)


@pytest.mark.parametrize("token", ["not-a-token", ""])
def test_decrypting_garbage_raises_value_error(settings: Any, token: str) -> None:
    settings.FIELD_ENCRYPTION_KEY = _key()
    with pytest.raises(ValueError):
        crypto.decrypt_text(token)


def test_decrypting_a_tampered_token_raises_value_error(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = _key()
    token = crypto.encrypt_text("secret")
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(ValueError):
        crypto.decrypt_text(tampered)


def test_key_rotation_keeps_old_values_readable_and_writes_with_the_new_key(settings: Any) -> None:
    old, new = _key(), _key()
    settings.FIELD_ENCRYPTION_KEY = old
    written_before = crypto.encrypt_text("old value")

    settings.FIELD_ENCRYPTION_KEY = f"{new}, {old}"
    assert crypto.decrypt_text(written_before) == "old value"
    written_after = crypto.encrypt_text("new value")

    settings.FIELD_ENCRYPTION_KEY = new
    assert crypto.decrypt_text(written_after) == "new value"
    with pytest.raises(ValueError):
        crypto.decrypt_text(written_before)


# --- Digests --------------------------------------------------------------------------------


def test_digest_is_stable_keyed_and_purpose_bound(settings: Any) -> None:
    first = crypto.digest("sk_live_abc", purpose="apikey")
    assert first == crypto.digest("sk_live_abc", purpose="apikey")
    assert len(first) == 64
    int(first, 16)  # hex
    assert "sk_live_abc" not in first
    assert first != crypto.digest("sk_live_abd", purpose="apikey")
    assert first != crypto.digest("sk_live_abc", purpose="enckey")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
    assert first != crypto.digest("sk_live_abc", purpose="apikey")


def test_digests_match() -> None:
    a = crypto.digest("value", purpose="code")
    assert crypto.digests_match(a, crypto.digest("value", purpose="code")) is True
    assert crypto.digests_match(a, crypto.digest("other", purpose="code")) is False
    assert crypto.digests_match(a, a[:-1]) is False
    assert crypto.digests_match("", "") is True


def test_random_token_is_url_safe_and_unique() -> None:
    tokens = {crypto.random_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


# --- Environment helpers --------------------------------------------------------------------

VAR = "SYMBIENT_TEST_ENV_VALUE"


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_env_bool_true(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, default=False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", ""])
def test_env_bool_false(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, default=True) is False


def test_env_bool_unset_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    assert env_bool(VAR, default=True) is True
    assert env_bool(VAR, default=False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "truthy"])
def test_env_bool_refuses_other_values(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env_bool(VAR)


def test_env_int(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    assert env_int(VAR, 7) == 7
    monkeypatch.setenv(VAR, "")
    assert env_int(VAR, 7) == 7
    monkeypatch.setenv(VAR, "42")
    assert env_int(VAR, 7) == 42
    monkeypatch.setenv(VAR, " 5 ")
    assert env_int(VAR, 7, minimum=5) == 5


@pytest.mark.parametrize("raw", ["abc", "1.5", "10k", "0x10"])
def test_env_int_refuses_non_integers(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match="must be an integer"):
        env_int(VAR, 1)


def test_env_int_refuses_values_under_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAR, "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int(VAR, 5, minimum=1)


def test_env_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    assert env_list(VAR, ["default"]) == ["default"]
    monkeypatch.setenv(VAR, " a.example, b.example,,c ")
    assert env_list(VAR, ["default"]) == ["a.example", "b.example", "c"]


def test_env_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    assert env_str(VAR, "fallback") == "fallback"
    assert env_str(VAR) == ""
    monkeypatch.setenv(VAR, "value")
    assert env_str(VAR, "fallback") == "value"


# --- Company scoping ------------------------------------------------------------------------


def test_for_company_none_returns_nothing(tenant: Tenant, outsider: Tenant) -> None:
    assert User.objects.count() >= 6
    assert User.objects.for_company(None).count() == 0
    assert Company.objects.for_company(None).count() == 0
    assert ApiKeyPair.objects.for_company(None).count() == 0


def test_for_company_keeps_out_other_companies(tenant: Tenant, outsider: Tenant) -> None:
    emails = set(User.objects.for_company(tenant.company).values_list("email", flat=True))
    assert emails == {"admin@acme.test", "manager@acme.test", "user@acme.test"}
    assert not User.objects.for_company(tenant.company).filter(company=outsider.company).exists()
    assert list(Company.objects.for_company(tenant.company)) == [tenant.company]
    pairs = ApiKeyPair.objects.for_company(outsider.company)
    assert [p.company_id for p in pairs] == [outsider.company.pk]


# --- Health ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_without_redis(anon: APIClient, settings: Any) -> None:
    settings.REDIS_URL = ""
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok", "redis": "not configured"}


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_with_redis(anon: APIClient, settings: Any) -> None:
    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_redis(anon: APIClient, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = anon.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ")
    assert "127.0.0.1" not in body["redis"]


class _BrokenConnection:
    def cursor(self) -> Any:
        raise OperationalError("could not connect to server at 10.0.0.5")


def test_healthz_reports_a_database_failure(anon: APIClient, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.REDIS_URL = ""
    monkeypatch.setattr(core_views, "connection", _BrokenConnection())
    response = anon.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error: OperationalError", "redis": "not configured"}
    assert b"10.0.0.5" not in response.content
