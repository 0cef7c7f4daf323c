"""Each operator on success and on failure, run through automation/test (jobs in-process)."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from apps.activities.tests.factories import ActivityFactory
from apps.automations.models import AutomationRun
from apps.automations.tests.conftest import chain, entries, make_automation, node, start_test_run
from apps.notes.models import Note

pytestmark = pytest.mark.django_db

COMPLETED, FAILED = AutomationRun.Status.COMPLETED, AutomationRun.Status.FAILED
HEAVY_LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.fixture
def run_flow(tenant, django_capture_on_commit_callbacks):
    def run(flow, input=None, **kwargs):
        automation = make_automation(tenant.company, flow, **kwargs)
        run = start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks, input=input)
        run.refresh_from_db()
        return run

    return run


# --- transform ----------------------------------------------------------------------------------


def test_transform_builds_json_keeping_types(run_flow):
    value = {"items": "{{ input.items }}", "count": "{{ input.items | length }}", "text": "Hi {{ input.name }}!"}
    run = run_flow(chain(node("t", "transform", value=value)), input={"items": [1, 2], "name": "Ada"})
    assert run.status == COMPLETED, run.explanation
    entry = entries(run)["t"]
    assert entry["status"] == "Success"
    assert entry["output"] == {"items": [1, 2], "count": 2, "text": "Hi Ada!"}
    assert entry["input"] == {"value": value}
    assert entry["elapsed"] >= 0


def test_transform_sees_earlier_results_the_run_and_the_automation(run_flow):
    flow = chain(
        node("a", "transform", value={"n": "{{ input.n * 2 }}"}),
        node("b", "transform", value="{{ results.a.n + 1 }}|{{ run.mode }}|{{ automation.name }}|{{ run.id }}"),
    )
    run = run_flow(flow, input={"n": 5}, name="Doubler")
    assert entries(run)["b"]["output"] == f"11|test|Doubler|{run.pk}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ input.missing }}", "has no attribute 'missing'"),
        ("{{ input.__class__.__mro__ }}", "unsafe"),
        ("{{ cycler.__init__.__globals__ }}", "unsafe"),
        ("{{ range(10**9) | list }}", "Range too big"),
        ("{{ input.update({'a': 1}) }}", "unsafe"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ],
)
def test_transform_fails_on_undefined_names_and_sandbox_escapes(run_flow, template, message):
    run = run_flow(chain(node("t", "transform", value=template)), input={"a": 1})
    assert run.status == FAILED
    entry = entries(run)["t"]
    assert entry["status"] == "Failed"
    assert entry["explanation"].startswith("Template error:")
    assert message in entry["explanation"], entry["explanation"]
    assert run.explanation == f"Operator 't' failed: {entry['explanation']}"


def test_an_operator_that_runs_too_long_is_stopped_at_its_time_limit(run_flow):
    run = run_flow(chain(node("t", "transform", value=HEAVY_LOOP, timeout=0.5)))
    assert run.status == FAILED
    entry = entries(run)["t"]
    assert entry["explanation"] == "The operator did not finish within its time limit of 0.5 s."
    assert 0.4 < entry["elapsed"] < 3


def test_a_run_that_passes_its_total_time_limit_fails(run_flow):
    flow = chain(
        node("slow", "transform", value=HEAVY_LOOP, timeout=30, continue_on_error=True),
        node("after", "transform", value=1),
    )
    flow["time_limit"] = 0.5
    run = run_flow(flow)
    assert run.status == FAILED
    assert run.explanation == "The run did not finish within its time limit of 0.5 s."
    assert entries(run)["slow"]["explanation"].startswith("The operator did not finish within the time left to the run")
    assert "after" not in entries(run)


# --- condition -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "taken", "skipped"), [(150, "big", "small"), (50, "small", "big")])
def test_condition_takes_one_branch(run_flow, total, taken, skipped):
    flow = {
        "nodes": [
            node("check", "condition", expression="input.total > 100"),
            node("big", "transform", value="big"),
            node("small", "transform", value="small"),
            node("done", "transform", value="{{ results.big if 'big' in results else results.small }}"),
        ],
        "edges": [
            {"from": "check", "to": "big", "when": "true"},
            {"from": "check", "to": "small", "when": "false"},
            {"from": "big", "to": "done"},
            {"from": "small", "to": "done"},
        ],
    }
    run = run_flow(flow, input={"total": total})
    assert run.status == COMPLETED, run.explanation
    ran = entries(run)
    assert set(ran) == {"check", taken, "done"}
    assert ran["check"]["result"] == str(total > 100).lower()
    assert ran["check"]["output"] == {"value": total > 100}
    assert ran["done"]["output"] == taken
    assert skipped not in ran


def test_condition_fails_on_an_undefined_name(run_flow):
    run = run_flow(chain(node("check", "condition", expression="input.nothing > 1")), input={})
    assert run.status == FAILED
    assert "has no attribute 'nothing'" in entries(run)["check"]["explanation"]


# --- delay ---------------------------------------------------------------------------------------


def test_delay_waits(run_flow):
    run = run_flow(chain(node("wait", "delay", seconds=0.3), node("after", "transform", value=1)))
    assert run.status == COMPLETED
    assert entries(run)["wait"]["elapsed"] >= 0.3
    assert entries(run)["wait"]["result"] == "Waited 0.3 s."


def test_delay_longer_than_its_time_limit_fails(run_flow):
    run = run_flow(chain(node("wait", "delay", seconds=2, timeout=1)))
    assert run.status == FAILED
    assert "does not fit" in entries(run)["wait"]["explanation"]
    assert entries(run)["wait"]["elapsed"] < 1


# --- http_request --------------------------------------------------------------------------------


@pytest.fixture
def private_allowed(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True


def test_http_request_sends_rendered_json_and_reads_json(run_flow, echo_server, private_allowed):
    flow = chain(
        node(
            "post",
            "http_request",
            method="POST",
            url=echo_server.url + "/echo?order={{ input.id }}",
            headers={"Authorization": "Bearer {{ input.token }}", "X-Order": "{{ input.id }}"},
            body={"id": "{{ input.id }}", "lines": "{{ input.lines }}"},
        ),
        node("use", "transform", value="{{ results.post.body.query.order }}/{{ results.post.status }}"),
    )
    run = run_flow(flow, input={"id": 7, "token": "s3cret", "lines": [1, 2]})
    assert run.status == COMPLETED, run.explanation
    (received,) = echo_server.received
    assert received["method"] == "POST"
    assert received["headers"]["Authorization"] == "Bearer s3cret"
    assert received["headers"]["Content-Type"] == "application/json"
    assert json.loads(received["body"]) == {"id": 7, "lines": [1, 2]}
    post = entries(run)["post"]
    assert post["output"]["status"] == 200
    assert post["output"]["body"]["method"] == "POST"
    assert post["input"]["headers"] == {
        "Authorization": "***",
        "X-Order": "7",
        "Content-Type": "application/json",
    }, "secrets are masked in history"
    assert post["result"].endswith("answered 200.")
    assert entries(run)["use"]["output"] == "7/200"


def test_http_request_with_a_text_body_and_a_text_answer(run_flow, echo_server, private_allowed):
    flow = chain(
        node("put", "http_request", method="PUT", url=echo_server.url + "/echo", body="name={{ input.name }}"),
        node("get", "http_request", url=echo_server.url + "/text"),
    )
    run = run_flow(flow, input={"name": "Ada"})
    assert run.status == COMPLETED, run.explanation
    assert echo_server.received[0]["body"] == "name=Ada"
    assert entries(run)["get"]["output"]["body"] == "plain words"


def test_http_request_error_status_fails_unless_told_otherwise(run_flow, echo_server, private_allowed):
    run = run_flow(chain(node("get", "http_request", url=echo_server.url + "/status/503")))
    assert run.status == FAILED
    entry = entries(run)["get"]
    assert entry["explanation"].endswith("answered 503.")
    assert entry["output"]["status"] == 503 and entry["output"]["body"] == {"error": "nope"}
    tolerant = run_flow(chain(node("get", "http_request", url=echo_server.url + "/status/404", fail_on_status=False)))
    assert tolerant.status == COMPLETED
    assert entries(tolerant)["get"]["output"]["status"] == 404


def test_http_request_times_out(run_flow, echo_server, private_allowed):
    run = run_flow(chain(node("get", "http_request", url=echo_server.url + "/slow", timeout=1)))
    assert run.status == FAILED
    assert entries(run)["get"]["explanation"] == "The remote server did not answer in time."
    assert entries(run)["get"]["elapsed"] < 4


def test_http_request_refuses_private_addresses(run_flow, echo_server, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    run = run_flow(chain(node("get", "http_request", url=echo_server.url + "/echo")))
    assert run.status == FAILED
    assert "private or local address" in entries(run)["get"]["explanation"]
    assert echo_server.received == []
    metadata = run_flow(chain(node("get", "http_request", url="http://169.254.169.254/latest/meta-data/")))
    assert "private or local address" in entries(metadata)["get"]["explanation"]


# --- note ----------------------------------------------------------------------------------------


def test_note_writes_on_a_record_of_the_company(run_flow, tenant):
    activity = ActivityFactory(company=tenant.company)
    flow = chain(
        node("n", "note", recordid="{{ input.record }}", note="Total was {{ input.total }}.", category="audit")
    )
    run = run_flow(flow, input={"record": str(activity.pk), "total": 12}, name="Auditor")
    assert run.status == COMPLETED, run.explanation
    note = Note.objects.get()
    assert (note.record_id, note.category, note.text) == (activity.pk, "audit", "Total was 12.")
    assert note.author is None and note.author_label == "Automation: Auditor"
    assert entries(run)["n"]["output"] == {"noteid": str(note.pk), "recordid": str(activity.pk)}


def test_note_on_another_company_record_fails(run_flow, outsider):
    theirs = ActivityFactory(company=outsider.company)
    run = run_flow(chain(node("n", "note", recordid=str(theirs.pk), note="x")))
    assert run.status == FAILED
    assert entries(run)["n"]["explanation"].startswith("Record not found.")
    assert not Note.objects.exists()


# --- email ---------------------------------------------------------------------------------------


def test_email_is_sent(run_flow):
    flow = chain(
        node("mail", "email", to="{{ input.to }}, b@example.com", subject="Order {{ input.id }}", body="Thanks!")
    )
    run = run_flow(flow, input={"to": "a@example.com", "id": 3})
    assert run.status == COMPLETED, run.explanation
    (message,) = mail.outbox
    assert message.to == ["a@example.com", "b@example.com"]
    assert (message.subject, message.body) == ("Order 3", "Thanks!")
    assert entries(run)["mail"]["result"] == "Sent to a@example.com, b@example.com."


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("not-an-address", "Not an email address"),
        ("{{ input.none }}", "No recipient"),
        ([f"u{i}@x.com" for i in range(11)], "Too many recipients"),
    ],
)
def test_email_failures(run_flow, to, message):
    run = run_flow(chain(node("mail", "email", to=to, subject="s", body="b")), input={"none": ""})
    assert run.status == FAILED
    assert message in entries(run)["mail"]["explanation"]
    assert mail.outbox == []


# --- failures and continue_on_error ---------------------------------------------------------------


def test_continue_on_error_lets_the_flow_go_on(run_flow):
    flow = chain(
        node("bad", "transform", value="{{ input.nope }}", continue_on_error=True),
        node("next", "transform", value="{{ results.bad is none }}"),
    )
    run = run_flow(flow, input={})
    assert run.status == COMPLETED
    assert run.explanation == "Automation completed; 1 operator(s) failed and the flow continued past them."
    assert entries(run)["bad"]["status"] == "Failed"
    assert entries(run)["next"]["output"] is True


def test_a_failing_operator_stops_the_run(run_flow):
    run = run_flow(
        chain(node("bad", "transform", value="{{ input.nope }}", name="Bad step"), node("next", "transform", value=1))
    )
    assert run.status == FAILED
    assert run.explanation.startswith("Operator 'Bad step' failed: Template error:")
    assert list(entries(run)) == ["bad"]
    assert run.ended_at is not None


def test_an_output_over_the_size_limit_fails(run_flow, settings):
    settings.AUTOMATION_OUTPUT_MAX_BYTES = 1024
    run = run_flow(chain(node("big", "transform", value="{{ 'x' * 5000 }}")))
    assert run.status == FAILED
    assert "more than the limit of 1024" in entries(run)["big"]["explanation"]
