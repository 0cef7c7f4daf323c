"""Runs push their state and progress on the company's events group: at the start, after each operator, at the end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.automations.models import AutomationRun
from apps.automations.services.runs import run_start
from apps.automations.tests.conftest import chain, make_automation, node, start_test_run
from apps.core import realtime
from apps.core.testing import assert_ok

pytestmark = pytest.mark.django_db

ENDED = {"Completed", "Failed", "Cancelled"}
CANCEL = "/api/v1/toolbox/tools/automation/run/cancel"


class Listener:
    """A socket's place in a company's events group on the real channel layer (in memory, or Redis)."""

    def __init__(self, company_id: Any) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self._join)(realtime.company_group(company_id))

    async def _join(self, group: str) -> str:
        channel = await self.layer.new_channel()
        await self.layer.group_add(group, channel)
        return channel

    def until_ended(self, run_id: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The automation events of one run received up to the one that ends it."""

        async def drain() -> list[dict[str, Any]]:
            events: list[dict[str, Any]] = []
            while True:
                message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
                assert message["type"] == realtime.COMPANY_EVENT
                event = message["event"]
                if event.get("job") == "automation" and event["id"] == str(run_id):
                    events.append(event)
                    if event["state"] in ENDED:
                        return events

        return async_to_sync(drain)()

    def nothing(self, wait: float = 0.3) -> bool:
        async def empty() -> bool:
            try:
                await asyncio.wait_for(self.layer.receive(self.channel), wait)
            except TimeoutError:
                return True
            return False

        return async_to_sync(empty)()


@pytest.fixture
def run_flow(tenant, django_capture_on_commit_callbacks):
    def run(flow, input=None):
        automation = make_automation(tenant.company, flow)
        return start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks, input=input)

    return run


def test_a_run_reports_its_start_each_operator_and_its_end(run_flow, tenant, outsider):
    mine, theirs = Listener(tenant.company.pk), Listener(outsider.company.pk)
    flow = chain(
        node("a", "transform", value="{{ input.n }}"),
        node("b", "transform", value="{{ results.a + 1 }}"),
        node("c", "transform", value="{{ results.b + 1 }}"),
    )
    run = run_flow(flow, input={"n": 1})
    assert run.status == "Completed"
    events = mine.until_ended(run.pk)
    common = {"type": "job_progress", "job": "automation", "id": str(run.pk), "automation": str(run.automation_id)}
    assert all(event.items() >= {**common, "mode": "test"}.items() for event in events), events
    assert [(e["state"], e["progress"], e.get("operator"), e.get("operator_status")) for e in events] == [
        ("Running", 0, None, None),
        ("Running", 33, "a", "Success"),
        ("Running", 67, "b", "Success"),
        ("Running", 100, "c", "Success"),
        ("Completed", 100, None, None),
    ]
    assert "error" not in events[-1]
    assert theirs.nothing(), "another company hears nothing"


def test_a_failed_run_reports_where_it_stopped_and_why(run_flow, tenant):
    listener = Listener(tenant.company.pk)
    flow = chain(
        node("a", "transform", value=1),
        node("b", "transform", value="{{ input.missing }}"),
        node("c", "transform", value=3),
        node("d", "transform", value=4),
    )
    run = run_flow(flow)
    assert run.status == "Failed"
    events = listener.until_ended(run.pk)
    assert [(e["state"], e["progress"]) for e in events] == [("Running", 0), ("Running", 25), ("Failed", 25)]
    assert events[-1]["error"] == run.explanation
    assert events[-1]["error"].startswith("Operator 'b' failed: Template error:")


def test_a_branch_not_taken_still_counts_as_decided(run_flow, tenant):
    listener = Listener(tenant.company.pk)
    flow = {
        "nodes": [
            node("check", "condition", expression="input.go"),
            node("skipped", "transform", value=1),
            node("last", "transform", value=2),
        ],
        "edges": [{"from": "check", "to": "skipped", "when": "true"}, {"from": "check", "to": "last", "when": "false"}],
    }
    run = run_flow(flow, input={"go": False})
    assert run.status == "Completed"
    progress = [(e["state"], e["progress"], e.get("operator")) for e in listener.until_ended(run.pk)]
    assert progress == [
        ("Running", 0, None),
        ("Running", 33, "check"),
        ("Running", 100, "last"),
        ("Completed", 100, None),
    ]


def test_a_cancelled_run_reports_it(tenant):
    automation = make_automation(tenant.company, chain(node("a", "transform", value=1)))
    run = run_start(automation=automation, mode=AutomationRun.Mode.TEST, input={})  # queued, not executed here
    listener = Listener(tenant.company.pk)
    assert_ok(tenant.admin.client.post(CANCEL, {"runid": str(run.pk)}, format="json"))
    events = listener.until_ended(run.pk)
    assert [(e["state"], e.get("progress"), e["error"]) for e in events] == [
        ("Cancelled", None, "The run was cancelled.")
    ]
