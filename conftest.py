"""Fixtures for every test: API clients, a cast of companies, Redis and a real Celery worker."""

from __future__ import annotations

import os
from typing import Any

import pytest

from apps.core.testing import *  # noqa: F403 - fixtures


@pytest.fixture(scope="session", autouse=True)
def _plan_catalogue(request: pytest.FixtureRequest, django_db_blocker: Any) -> None:
    """Tests that commit end by emptying every table, and --reuse-db keeps that state for the next run;
    the plan catalogue (loaded by a data migration) is put back once per session (when a test uses the database)."""
    from apps.billing.services.limits import plans_ensure

    database_fixtures = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
    if not any(
        item.get_closest_marker("django_db") or database_fixtures & set(getattr(item, "fixturenames", ()))
        for item in request.session.items
    ):
        return
    request.getfixturevalue("django_db_setup")

    with django_db_blocker.unblock():
        plans_ensure()


NEEDS = {
    "redis": ("REDIS_URL",),
    "postgres": ("DATABASE_URL",),
    "worker": ("REDIS_URL", "DATABASE_URL"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker, variables in NEEDS.items():
            if item.get_closest_marker(marker):
                missing = [name for name in variables if not os.environ.get(name)]
                if missing:
                    item.add_marker(pytest.mark.skip(reason=f"needs {', '.join(missing)}"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI runs the real stack; a test that skipped there did not test what it says.
    if not os.environ.get("TEST_FORBID_SKIPS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"TEST_FORBID_SKIPS: {len(skipped)} test(s) skipped; failing the run.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
