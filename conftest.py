"""Fixtures for every test: API clients, a cast of companies, Redis and a real Celery worker."""

from __future__ import annotations

import os

import pytest

from apps.core.testing import *  # noqa: F403 - fixtures

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
