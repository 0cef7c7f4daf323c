"""Test helpers shared by every app: clients, the cast, envelope checks, Redis and a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

PASSWORD = "Corr3ct-Horse-Battery"


def assert_envelope_error(response: Any, status: int, contains: str | None = None) -> dict[str, Any]:
    """The toolbox error envelope: success false, `error` and `message` alike, the given status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["success"] is False, body
    assert body["error"] == body["message"], body
    if contains is not None:
        assert contains.lower() in body["error"].lower(), body
    return body


def assert_detail_error(response: Any, status: int, contains: str | None = None) -> dict[str, Any]:
    """The chat/gateway dialects' error shape: `{"detail": ...}`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body.get("detail"), str), body
    if contains is not None:
        assert contains.lower() in body["detail"].lower(), body
    return body


def assert_ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:800])
    body = response.json()
    assert body["success"] is True, body
    return body


@dataclass
class Member:
    """A user of a company with a client signed in as them."""

    user: Any
    client: APIClient
    token: str


@dataclass
class Tenant:
    """A company with its admin, a user manager, a plain user and the key pair."""

    company: Any
    admin: Member
    manager: Member
    user: Member
    apikey: str
    enckey: str

    def key_client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=self.apikey, HTTP_X_ENC_KEY=self.enckey)
        return client

    def member(self, roles: list[str], email: str | None = None) -> Member:
        from apps.accounts.tests.factories import UserFactory

        user = UserFactory(company=self.company, roles=roles, email=email or f"{uuid.uuid4().hex[:10]}@example.com")
        return signed_in(user)


def signed_in(user: Any) -> Member:
    from apps.accounts.services.auth import token_issue_for_user

    token = token_issue_for_user(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return Member(user, client, token)


def make_tenant(name: str) -> Tenant:
    from apps.accounts.roles import COMPANY_ADMIN, USER, USER_MANAGER
    from apps.accounts.services.auth import key_pair_issue
    from apps.accounts.tests.factories import CompanyFactory, UserFactory

    company: Any = CompanyFactory(name=name)
    slug = name.lower().replace(" ", "")
    admin = signed_in(UserFactory(company=company, roles=[COMPANY_ADMIN], email=f"admin@{slug}.test"))
    manager = signed_in(UserFactory(company=company, roles=[USER_MANAGER], email=f"manager@{slug}.test"))
    user = signed_in(UserFactory(company=company, roles=[USER], email=f"user@{slug}.test"))
    issued = key_pair_issue(company=company, created_by=admin.user)
    return Tenant(company, admin, manager, user, issued.apikey, issued.enckey)


@pytest.fixture
def anon() -> APIClient:
    """A client with no credentials."""
    return APIClient()


@pytest.fixture
def tenant(db: Any) -> Tenant:
    """The company under test."""
    return make_tenant("Acme")


@pytest.fixture
def outsider(db: Any) -> Tenant:
    """Another company, whose ids must answer like unknown ids."""
    return make_tenant("Globex")


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    """Each test starts with an empty cache (throttles, lockouts); on Redis only our prefix is removed."""
    _clear_cache()
    yield
    _clear_cache()


def _clear_cache() -> None:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _test_database_url() -> str:
    from django.db import connection

    parts = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"]))


@dataclass
class Worker:
    """A real Celery worker process consuming from Redis, using the test database."""

    process: subprocess.Popen
    mail_dir: Path
    log_path: Path

    def mails(self) -> list[str]:
        """Mails the worker has finished writing (the file backend creates the file before it writes)."""
        texts = [p.read_text() for p in sorted(self.mail_dir.glob("*.log"))]
        return [text for text in texts if text.rstrip().endswith("-" * 79)]

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def celery_worker(transactional_db: Any, tmp_path: Path) -> Iterator[Worker]:
    """Starts `celery -A config worker` against the test database and Redis; tasks leave the test process."""
    from config.celery import app

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # files the test stores are where the worker reads them
    }
    app.control.purge()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, "--loglevel=INFO",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Celery worker did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield Worker(process, mail_dir, log_path)
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until `predicate()` returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


__all__ = [
    "PASSWORD",
    "Member",
    "Tenant",
    "Worker",
    "_isolated_cache",
    "_media_root",
    "anon",
    "assert_detail_error",
    "assert_envelope_error",
    "assert_ok",
    "celery_worker",
    "make_tenant",
    "outsider",
    "signed_in",
    "tenant",
    "wait_for",
]
