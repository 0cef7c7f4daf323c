"""Fixtures of the socket tests: one or two real daphne processes on the test database and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.chat.tests.daphne import Daphne, running_daphne
from apps.core.testing import _test_database_url


def daphne_env(**extra: str) -> dict[str, str]:
    """The environment of a server process that shares this test's database, cache prefix and Redis."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "OUTBOUND_ALLOW_PRIVATE": "1",  # the fake upstream is on loopback
        "GATEWAY_MAX_RETRIES": "0",
        **extra,
    }


@pytest.fixture(scope="module")
def _daphne_server(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daphne]:
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    with running_daphne(log_path, daphne_env(), cwd=settings.BASE_DIR) as server:
        yield server


@pytest.fixture
def daphne(_daphne_server: Daphne, transactional_db: Any) -> Daphne:
    """One daphne process serving config.asgi (one per test module); the test's rows must be committed."""
    return _daphne_server


@pytest.fixture
def daphne_pair(transactional_db: Any, tmp_path: Path) -> Iterator[tuple[Daphne, Daphne]]:
    """Two daphne processes sharing PostgreSQL and Redis (channels-redis groups, presence)."""
    env = daphne_env()
    with (
        running_daphne(tmp_path / "daphne-a.log", env, cwd=settings.BASE_DIR) as first,
        running_daphne(tmp_path / "daphne-b.log", env, cwd=settings.BASE_DIR) as second,
    ):
        yield first, second
