"""Runs as jobs: claimed once, resumed after a lost worker, recovered, pruned, and started by schedules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.automations.engine.runner import RunBusy, run_execute
from apps.automations.models import AutomationEvent, AutomationRun, AutomationSettings
from apps.automations.services import runs
from apps.automations.services.automations import automation_save
from apps.automations.tests.conftest import chain, make_automation, node
from apps.core.testing import assert_ok
from apps.notes.models import Note

pytestmark = pytest.mark.django_db

FLOW = chain(node("a", "transform", value="{{ input.n + 1 }}"), node("b", "transform", value="{{ results.a * 10 }}"))


def queued_run(company, flow=FLOW, input=None, **kwargs):
    """A run recorded and left queued (its job is not executed inside the test's transaction)."""
    return runs.run_start(automation=make_automation(company, flow, **kwargs), mode="trigger", input=input or {"n": 1})


def test_a_run_completes_once_and_a_second_delivery_does_nothing(tenant):
    run = queued_run(tenant.company)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts, [e["output"] for e in run.operator_history]) == ("Completed", 1, [2, 20])
    ended = run.ended_at
    run_execute(run_id=run.pk)  # the broker delivers the job again
    run.refresh_from_db()
    assert (run.status, run.attempts, run.ended_at) == ("Completed", 1, ended)
    assert AutomationEvent.objects.filter(kind="run").count() == 1


def test_a_run_leased_by_a_live_worker_is_left_to_it(tenant):
    run = queued_run(tenant.company)
    AutomationRun.objects.filter(pk=run.pk).update(
        lease_token="other", lease_until=timezone.now() + timedelta(seconds=30)
    )
    with pytest.raises(RunBusy) as busy:
        run_execute(run_id=run.pk)
    assert 28 < busy.value.seconds <= 30
    run.refresh_from_db()
    assert (run.status, run.operator_history, run.attempts) == ("Running", [], 0)


def test_a_run_whose_worker_died_resumes_after_the_last_saved_operator(tenant):
    activity_flow = chain(
        node("first", "note", recordid="{{ automation.id }}", note="first"),
        node("second", "note", recordid="{{ automation.id }}", note="second: {{ results.first.noteid }}"),
    )
    run = queued_run(tenant.company, activity_flow)
    saved = {
        "node": "first",
        "type": "note",
        "name": "first",
        "description": "",
        "status": "Success",
        "explanation": "Completed without issues.",
        "result": "r",
        "input": None,
        "output": {"noteid": "N1", "recordid": "x"},
        "elapsed": 0.01,
        "started": "2026-01-01T00:00:00Z",
    }
    # The first worker saved operator 'first', started 'second', and died: its lease has run out.
    AutomationRun.objects.filter(pk=run.pk).update(
        operator_history=[saved], current_node="second", lease_token="dead", attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "Completed" and run.attempts == 2
    assert [e["node"] for e in run.operator_history] == ["first", "second"]
    assert list(Note.objects.values_list("text", flat=True)) == ["second: N1"], "'first' did not run again"


def test_a_cancelled_run_is_not_run(tenant):
    run = queued_run(tenant.company)
    runs.run_cancel(company=tenant.company, actor=None, run_id=run.pk)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.operator_history) == ("Cancelled", [])


def test_recovery_queues_lost_runs_again_and_fails_runs_past_their_limit(
    tenant, settings, django_capture_on_commit_callbacks
):
    settings.AUTOMATION_REQUEUE_SECONDS = 60
    now = timezone.now()
    lost = queued_run(tenant.company)
    AutomationRun.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(seconds=120))
    dead = queued_run(tenant.company)
    AutomationRun.objects.filter(pk=dead.pk).update(
        enqueued_at=now - timedelta(seconds=120), lease_token="dead", lease_until=now - timedelta(seconds=1)
    )
    alive = queued_run(tenant.company)
    AutomationRun.objects.filter(pk=alive.pk).update(
        enqueued_at=now - timedelta(seconds=120), lease_token="alive", lease_until=now + timedelta(seconds=60)
    )
    fresh = queued_run(tenant.company)  # queued a moment ago: its job is still on its way
    late = queued_run(tenant.company)
    AutomationRun.objects.filter(pk=late.pk).update(deadline=now - timedelta(seconds=60))
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.runs_recover() == 2
    statuses = dict(AutomationRun.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: "Completed",
        dead.pk: "Completed",
        alive.pk: "Running",
        fresh.pk: "Running",
        late.pk: "Failed",
    }
    late.refresh_from_db()
    assert late.explanation.startswith("The run did not finish within its time limit")
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.runs_recover() == 0, "a run is queued again at most once per AUTOMATION_REQUEUE_SECONDS"


def test_old_runs_are_pruned_by_each_company_retention(tenant, outsider, settings):
    settings.AUTOMATION_RUN_RETENTION_DAYS = 30
    AutomationSettings.objects.create(company=outsider.company, run_retention_days=60)
    now = timezone.now()
    mine_old, mine_new, mine_running = (queued_run(tenant.company) for _ in range(3))
    theirs_old = queued_run(outsider.company)
    for run, days in ((mine_old, 40), (mine_new, 10), (theirs_old, 40)):
        AutomationRun.objects.filter(pk=run.pk).update(status="Completed", ended_at=now - timedelta(days=days))
    AutomationRun.objects.filter(pk=mine_running.pk).update(started_at=now - timedelta(days=90))
    AutomationEvent.objects.create(company=tenant.company, automation=mine_old.automation, kind="run", event="old run")
    AutomationEvent.objects.filter(event="old run").update(created_at=now - timedelta(days=40))
    assert runs.runs_prune() == 1
    assert set(AutomationRun.objects.values_list("pk", flat=True)) == {mine_new.pk, mine_running.pk, theirs_old.pk}
    assert not AutomationEvent.objects.filter(event="old run").exists()
    assert AutomationEvent.objects.filter(event="Automation created").count() == 4


def test_schedules_start_one_run_per_due_time(tenant, django_capture_on_commit_callbacks):
    flow = chain(node("when", "transform", value="{{ input.scheduled_for }}"))
    automation = make_automation(tenant.company, flow, schedule="*/5 * * * *")
    inactive = make_automation(tenant.company, flow, schedule="*/5 * * * *", active=False)
    now = timezone.now()
    assert now < automation.next_run_at <= now + timedelta(minutes=5)
    assert automation.next_run_at.minute % 5 == 0 and automation.next_run_at.second == 0
    due = now - timedelta(minutes=1)
    type(automation).objects.filter(pk__in=[automation.pk, inactive.pk]).update(next_run_at=due)
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.schedules_tick() == 1
        assert runs.schedules_tick() == 0, "a due time fires once"
    run = AutomationRun.objects.get()
    assert (run.automation_id, run.mode, run.status) == (automation.pk, "schedule", "Completed")
    assert run.input == {"scheduled_for": due.isoformat().replace("+00:00", "Z")}
    assert run.operator_history[0]["output"] == run.input["scheduled_for"]
    automation.refresh_from_db()
    assert automation.next_run_at > now


def test_activating_a_scheduled_automation_counts_from_now(tenant):
    automation = make_automation(tenant.company, FLOW, schedule="0 3 * * *", active=False)
    type(automation).objects.filter(pk=automation.pk).update(next_run_at=timezone.now() - timedelta(days=3))
    automation_save(company=tenant.company, actor=None, automation_id=automation.pk, name="F", is_active=True)
    automation.refresh_from_db()
    assert automation.next_run_at > timezone.now()
    assert (automation.next_run_at.hour, automation.next_run_at.minute) == (3, 0)
    automation_save(company=tenant.company, actor=None, automation_id=automation.pk, name="F", schedule="")
    automation.refresh_from_db()
    assert (automation.schedule, automation.next_run_at) == ("", None)


def test_notes_attach_to_automations(tenant, outsider):
    automation = make_automation(tenant.company, FLOW)
    save = "/api/v1/toolbox/tools/notes/save"
    assert_ok(
        tenant.admin.client.post(save, {"recordid": str(automation.pk), "category": "c", "note": "n"}, format="json")
    )
    assert Note.objects.get().record_kind == "automation"
    response = outsider.admin.client.post(
        save, {"recordid": str(automation.pk), "category": "c", "note": "n"}, format="json"
    )
    assert response.status_code == 404
