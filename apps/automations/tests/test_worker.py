"""Runs through real Celery workers on Redis: a run end to end, a cancelled run, a schedule tick, and a
worker killed in the middle of a run, whose run is taken over and completes exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.automations.models import AutomationEvent, AutomationRun
from apps.automations.services import runs
from apps.automations.tasks import automation_run_execute, automation_schedules_tick
from apps.automations.tests.conftest import chain, make_automation, node
from apps.automations.tests.test_progress import Listener
from apps.core.testing import _test_database_url, assert_ok, wait_for
from apps.notes.models import Note

pytestmark = pytest.mark.worker

GET = "/api/v1/toolbox/tools/automation/get"
CANCEL = "/api/v1/toolbox/tools/automation/run/cancel"


def finished(run_id):
    run = AutomationRun.objects.get(pk=run_id)
    return run if run.status != AutomationRun.Status.RUNNING else None


@pytest.fixture
def worker(transactional_db, monkeypatch, request):
    """The project's real worker, with short leases so a dead worker's run is free again within seconds."""
    monkeypatch.setenv("AUTOMATION_LEASE_GRACE_SECONDS", "1")
    return request.getfixturevalue("celery_worker")


def start_second_worker(tmp_path: Path) -> subprocess.Popen:
    """Another worker on the same queue, as a replacement host would be."""
    from config.celery import app

    log_path = tmp_path / "worker2.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _test_database_url()}
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", app.conf.task_default_queue,
        "--loglevel=INFO", "-n", "second@%h",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: "ready" in log_path.read_text(), timeout=60, interval=0.2)
    return process


def test_a_triggered_run_goes_through_a_real_worker(worker, tenant, anon):
    automation = make_automation(
        tenant.company,
        chain(
            node("a", "transform", value={"total": "{{ input.total }}"}),
            node("check", "condition", expression="results.a.total > 100"),
            node("b", "transform", value="big order of {{ results.a.total }}"),
        )
        | {"edges": [{"from": "a", "to": "check"}, {"from": "check", "to": "b", "when": "true"}]},
    )
    url = assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]["trigger_url"]
    listener = Listener(tenant.company.pk)
    body = assert_ok(anon.post(url.split("testserver", 1)[1], {"total": 150}, format="json"), status=202)
    run = wait_for(lambda: finished(body["runid"]), timeout=30)
    assert run.status == "Completed", (run.explanation, worker.log())
    assert [e["node"] for e in run.operator_history] == ["a", "check", "b"]
    assert run.operator_history[-1]["output"] == "big order of 150"
    assert (run.mode, run.attempts) == ("trigger", 1)
    # The run's row is final before the task returns (and the worker logs it): wait for the log line.
    assert wait_for(lambda: "automation_run_execute" in worker.log() and "succeeded" in worker.log(), timeout=10)
    # The worker pushed the run's progress through Redis to the company's events group.
    events = listener.until_ended(run.pk, timeout=10)
    assert [(e["state"], e["progress"], e.get("operator")) for e in events] == [
        ("Running", 0, None),
        ("Running", 33, "a"),
        ("Running", 67, "check"),
        ("Running", 100, "b"),
        ("Completed", 100, None),
    ]
    assert {e["mode"] for e in events} == {"trigger"}


def test_a_run_cancelled_while_it_waits_stops(worker, tenant):
    automation = make_automation(
        tenant.company,
        chain(node("a", "transform", value=1), node("wait", "delay", seconds=3), node("after", "transform", value=2)),
    )
    run = runs.run_start(automation=automation, mode="test", input={})
    wait_for(lambda: AutomationRun.objects.filter(pk=run.pk, current_node="wait").exists(), timeout=30)
    assert_ok(tenant.admin.client.post(CANCEL, {"runid": str(run.pk)}, format="json"))
    time.sleep(4)  # long enough for the worker to notice and for 'after' to have run, had it not stopped
    run.refresh_from_db()
    assert run.status == "Cancelled"
    assert [e["node"] for e in run.operator_history] == ["a"]
    assert AutomationEvent.objects.filter(automation=automation, kind="run").count() == 1


def test_the_schedule_tick_runs_in_the_worker(worker, tenant):
    from datetime import timedelta

    from django.utils import timezone

    automation = make_automation(
        tenant.company, chain(node("a", "transform", value="{{ run.mode }}")), schedule="0 0 * * *"
    )
    type(automation).objects.filter(pk=automation.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))
    automation_schedules_tick.delay()  # what Celery beat sends every minute
    run = wait_for(lambda: AutomationRun.objects.filter(automation=automation, status="Completed").first(), timeout=30)
    assert run.mode == "schedule" and run.operator_history[0]["output"] == "schedule"


def test_a_worker_killed_mid_run_leaves_a_run_that_completes_exactly_once(worker, tenant, tmp_path, settings):
    settings.AUTOMATION_REQUEUE_SECONDS = 0
    automation = make_automation(
        tenant.company,
        chain(
            node("a", "transform", value="{{ input.n + 1 }}"),
            node("wait", "delay", seconds=2, timeout=3),
            node("write", "note", recordid="{{ automation.id }}", note="run {{ run.id }}"),
            node("b", "transform", value="{{ results.a * 10 }}"),
        ),
    )
    run = runs.run_start(automation=automation, mode="trigger", input={"n": 1})
    wait_for(lambda: AutomationRun.objects.filter(pk=run.pk, current_node="wait").exists(), timeout=30)
    worker.process.kill()  # the host dies mid-operator; its message is never acknowledged
    worker.process.wait(timeout=10)
    run.refresh_from_db()
    assert (run.status, run.attempts, [e["node"] for e in run.operator_history]) == ("Running", 1, ["a"])

    second = start_second_worker(tmp_path)
    try:
        automation_run_execute.delay(str(run.pk))  # a redelivery while the dead worker's lease still holds
        wait_for(lambda: AutomationRun.objects.get(pk=run.pk).lease_until < _now(), timeout=30)
        assert runs.runs_recover() == 1  # what the beat sweep does once the lease has run out
        run = wait_for(lambda: finished(run.pk), timeout=60)
        time.sleep(1.5)  # let any other delivery of the same run reach the worker
    finally:
        second.terminate()
        second.wait(timeout=20)
    run.refresh_from_db()
    assert run.status == "Completed", run.explanation
    assert [e["node"] for e in run.operator_history] == ["a", "wait", "write", "b"]
    assert run.operator_history[-1]["output"] == 20
    assert run.attempts == 2
    assert Note.objects.filter(record_id=automation.pk).count() == 1
    assert AutomationEvent.objects.filter(automation=automation, kind="run").count() == 1


def _now():
    from django.utils import timezone

    return timezone.now()
