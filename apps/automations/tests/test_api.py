"""Automation and Automations endpoints and the trigger URL, through the HTTP API."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.roles import ACTIVITY_MANAGER, AUTOMATION_MANAGER
from apps.automations.models import Automation, AutomationEvent, AutomationRun
from apps.automations.tests.conftest import SAVE, TEST, chain, make_automation, node, start_test_run
from apps.core.testing import assert_envelope_error, assert_ok

GET = "/api/v1/toolbox/tools/automation/get"
HISTORY = "/api/v1/toolbox/tools/automation/history"
CLONE = "/api/v1/toolbox/tools/automation/clone"
ROTATE = "/api/v1/toolbox/tools/automation/trigger/rotate"
RUN_GET = "/api/v1/toolbox/tools/automation/run/get"
RUN_CANCEL = "/api/v1/toolbox/tools/automation/run/cancel"
LIST = "/api/v1/toolbox/tools/automations/get"
DELETE = "/api/v1/toolbox/tools/automations/delete"

pytestmark = pytest.mark.django_db

FLOW = chain(node("double", "transform", value="{{ input.n * 2 }}", name="Double it", description="Times two."))


def trigger_path(url: str) -> str:
    return url.split("testserver", 1)[1]


# --- save and get ------------------------------------------------------------------------------


def test_save_creates_and_get_shows_the_spec_shape(tenant):
    payload = {"name": "New Automation", "description": "d", "isactive": True, "flow": FLOW, "trigger_name": "Orders"}
    body = assert_ok(tenant.admin.client.post(SAVE, payload, format="json"))
    assert body["message"] == "Automation saved successfully."
    automation = Automation.objects.get(pk=body["automationid"])
    got = assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]
    assert got["automationid"] == str(automation.pk)
    assert got["groupid"] == str(tenant.company.pk)
    assert (got["name"], got["description"], got["isactive"], got["flow"]) == ("New Automation", "d", True, FLOW)
    assert got["trigger_name"] == "Orders"
    assert got["trigger_url"].startswith("http://testserver/api/v1/automations/trigger/")
    assert got["created"].endswith("Z") and got["modified"].endswith("Z")
    assert [e["event"] for e in got["history"]] == ["Automation activated", "Automation created"]
    assert all(e["timestamp"].endswith("Z") for e in got["history"])


def test_update_keeps_fields_left_out_and_records_events(tenant):
    automation = make_automation(tenant.company, FLOW, active=False)
    client = tenant.member([AUTOMATION_MANAGER]).client
    assert_ok(
        client.post(SAVE, {"automationid": str(automation.pk), "name": "Renamed", "isactive": True}, format="json")
    )
    assert_ok(
        client.post(SAVE, {"automationid": str(automation.pk), "name": "Renamed", "isactive": False}, format="json")
    )
    automation.refresh_from_db()
    assert automation.name == "Renamed" and automation.flow == FLOW
    events = list(
        AutomationEvent.objects.filter(automation=automation).order_by("created_at").values_list("event", flat=True)
    )
    assert events == [
        "Automation created",
        "Automation modified",
        "Automation activated",
        "Automation modified",
        "Automation deactivated",
    ]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"description": "x"}, 400, "Missing name"),
        ({"name": "   "}, 400, "name"),
        ({"name": "A", "isactive": "sometimes"}, 400, "isactive"),
        ({"name": "A", "schedule": "every day"}, 400, "Invalid schedule"),
        ({"name": "A", "schedule": "61 * * * *"}, 400, "Invalid schedule"),
        ({"name": "A", "automationid": str(uuid.uuid4())}, 404, "Automation not found"),
    ],
)
def test_save_refuses_bad_input(tenant, payload, status, message):
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), status, message)
    assert not Automation.objects.exists()


def test_get_failures_roles_and_other_companies(tenant, outsider, anon):
    theirs = make_automation(outsider.company, FLOW)
    client = tenant.admin.client
    assert_envelope_error(client.get(GET), 400, "Missing automationid")
    assert_envelope_error(client.get(GET, {"automationid": "automation123"}), 404)
    assert_envelope_error(client.get(GET, {"automationid": str(theirs.pk)}), 404, "Automation not found")
    assert_envelope_error(anon.get(GET, {"automationid": str(theirs.pk)}), 401)
    assert_envelope_error(tenant.member([ACTIVITY_MANAGER]).client.get(GET, {"automationid": str(theirs.pk)}), 403)
    payload = {"automationid": str(theirs.pk), "name": "Hijacked"}
    assert_envelope_error(client.post(SAVE, payload, format="json"), 404)
    theirs.refresh_from_db()
    assert theirs.name == "Flow"


# --- list and delete -------------------------------------------------------------------------------


def test_list_shows_the_company_automations(tenant, outsider, anon):
    mine = make_automation(tenant.company, FLOW, name="Mine", description="m")
    make_automation(outsider.company, FLOW, name="Theirs")
    body = assert_ok(tenant.key_client().get(LIST))
    (item,) = body["automations"]
    assert item["automationid"] == str(mine.pk)
    assert (item["name"], item["description"], item["isactive"]) == ("Mine", "m", True)
    assert item["trigger_url"].startswith("http://testserver/api/v1/automations/trigger/")
    assert_envelope_error(anon.get(LIST), 401)
    assert_envelope_error(tenant.user.client.get(LIST), 403)


def test_delete_all_or_nothing_with_runs(tenant, outsider, anon, django_capture_on_commit_callbacks):
    first = make_automation(tenant.company, FLOW)
    second = make_automation(tenant.company, FLOW)
    theirs = make_automation(outsider.company, FLOW)
    start_test_run(tenant.admin.client, first, django_capture_on_commit_callbacks, input={"n": 1})
    mixed = {"automations": [str(first.pk), str(theirs.pk)]}
    assert_envelope_error(tenant.admin.client.delete(DELETE, mixed, format="json"), 404)
    assert_envelope_error(anon.delete(DELETE, mixed, format="json"), 401)
    assert_envelope_error(tenant.user.client.delete(DELETE, mixed, format="json"), 403)
    assert_envelope_error(tenant.admin.client.delete(DELETE, {"automations": []}, format="json"), 400)
    assert Automation.objects.count() == 3
    body = assert_ok(
        tenant.admin.client.delete(DELETE, {"automations": [str(first.pk), str(second.pk)]}, format="json")
    )
    assert body["message"] == "Automations deleted successfully."
    assert list(Automation.objects.all()) == [theirs]
    assert not AutomationRun.objects.exists()


# --- clone ---------------------------------------------------------------------------------------


def test_clone_copies_settings_with_a_new_trigger_url(tenant, outsider):
    original = make_automation(tenant.company, FLOW, description="d", trigger_name="T", schedule="0 * * * *")
    body = assert_ok(tenant.admin.client.post(CLONE, {"automationid": str(original.pk), "name": "Copy"}, format="json"))
    assert body["message"] == "Automation cloned successfully."
    clone = Automation.objects.get(pk=body["automationid"])
    fields = ("description", "is_active", "flow", "trigger_name", "schedule", "company_id")
    assert [getattr(clone, f) for f in fields] == [getattr(original, f) for f in fields]
    assert clone.name == "Copy" and clone.trigger_digest != original.trigger_digest
    theirs = make_automation(outsider.company, FLOW)
    assert_envelope_error(
        tenant.admin.client.post(CLONE, {"automationid": str(theirs.pk), "name": "C"}, format="json"), 404
    )
    assert_envelope_error(
        tenant.admin.client.post(CLONE, {"automationid": str(original.pk)}, format="json"), 400, "name"
    )
    assert_envelope_error(
        tenant.user.client.post(CLONE, {"automationid": str(original.pk), "name": "C"}, format="json"), 403
    )
    assert Automation.objects.count() == 3


# --- test runs and history -------------------------------------------------------------------------


def test_test_run_uses_the_given_input_or_the_sample_input(tenant, django_capture_on_commit_callbacks):
    automation = make_automation(tenant.company, {**FLOW, "sample_input": {"n": 21}}, active=False)
    run = start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert (run.mode, run.status, run.input) == ("test", "Completed", {"n": 21})
    assert run.operator_history[0]["output"] == 42
    other = start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks, input={"n": 1})
    other.refresh_from_db()
    assert other.operator_history[0]["output"] == 2


def test_test_failures(tenant, outsider, anon):
    theirs = make_automation(outsider.company, FLOW)
    assert_envelope_error(tenant.admin.client.post(TEST, {}, format="json"), 400, "Missing automationid")
    assert_envelope_error(tenant.admin.client.post(TEST, {"automationid": str(theirs.pk)}, format="json"), 404)
    assert_envelope_error(anon.post(TEST, {"automationid": str(theirs.pk)}, format="json"), 401)
    assert_envelope_error(tenant.user.client.post(TEST, {"automationid": str(theirs.pk)}, format="json"), 403)
    assert not AutomationRun.objects.exists()


def test_history_pages_newest_first_in_the_spec_shape(tenant, outsider, django_capture_on_commit_callbacks):
    automation = make_automation(tenant.company, FLOW)
    ran = [
        start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks, input={"n": n})
        for n in range(3)
    ]
    body = assert_ok(tenant.admin.client.get(HISTORY, {"automationid": str(automation.pk), "pagesize": 2}))
    assert (body["page"], body["pagesize"], body["total"]) == (1, 2, 3)
    assert [r["runid"] for r in body["history"]] == [str(ran[2].pk), str(ran[1].pk)]
    newest = body["history"][0]
    assert {"started", "ended", "status", "explanation", "operator_history", "mode", "input"} <= set(newest)
    assert newest["status"] == "Completed" and newest["explanation"] == "Automation completed successfully."
    (operator,) = newest["operator_history"]
    assert operator["name"] == "Double it" and operator["description"] == "Times two."
    assert operator["status"] == "Success" and operator["explanation"] == "Completed without issues."
    assert operator["result"] == "4" and operator["output"] == 4 and operator["elapsed"] >= 0
    assert operator["input"] == {"value": "{{ input.n * 2 }}"}
    page2 = assert_ok(tenant.admin.client.get(HISTORY, {"automationid": str(automation.pk), "pagesize": 2, "page": 2}))
    assert [r["runid"] for r in page2["history"]] == [str(ran[0].pk)]
    assert_envelope_error(tenant.admin.client.get(HISTORY), 400, "Missing automationid")
    assert_envelope_error(tenant.admin.client.get(HISTORY, {"automationid": str(automation.pk), "pagesize": 0}), 400)
    theirs = make_automation(outsider.company, FLOW)
    assert_envelope_error(tenant.admin.client.get(HISTORY, {"automationid": str(theirs.pk)}), 404)
    assert_envelope_error(tenant.user.client.get(HISTORY, {"automationid": str(automation.pk)}), 403)
    events = assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]["history"]
    assert events[0]["event"].startswith("Test run completed in")


def test_run_get_and_cancel(tenant, outsider):
    automation = make_automation(tenant.company, FLOW)
    from apps.automations.services.runs import run_start

    run = run_start(automation=automation, mode="trigger", input={"n": 1})  # committed only: not executed here
    body = assert_ok(tenant.admin.client.get(RUN_GET, {"runid": str(run.pk)}))
    assert (body["run"]["status"], body["run"]["mode"], body["run"]["ended"]) == ("Running", "trigger", None)
    assert_envelope_error(outsider.admin.client.post(RUN_CANCEL, {"runid": str(run.pk)}, format="json"), 404)
    assert_envelope_error(outsider.admin.client.get(RUN_GET, {"runid": str(run.pk)}), 404)
    assert_envelope_error(tenant.user.client.post(RUN_CANCEL, {"runid": str(run.pk)}, format="json"), 403)
    assert_ok(tenant.admin.client.post(RUN_CANCEL, {"runid": str(run.pk)}, format="json"))
    run.refresh_from_db()
    assert run.status == "Cancelled" and run.ended_at is not None
    assert_envelope_error(tenant.admin.client.post(RUN_CANCEL, {"runid": str(run.pk)}, format="json"), 409, "ended")


# --- trigger URLs ------------------------------------------------------------------------------


def test_trigger_url_starts_a_run_with_the_body_as_input(tenant, anon, django_capture_on_commit_callbacks):
    automation = make_automation(tenant.company, FLOW)
    url = assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]["trigger_url"]
    with django_capture_on_commit_callbacks(execute=True):
        response = anon.post(trigger_path(url), {"n": 5}, format="json")
    body = assert_ok(response, status=202)
    run = AutomationRun.objects.get(pk=body["runid"])
    assert (run.mode, run.input, run.status) == ("trigger", {"n": 5}, "Completed")
    assert run.operator_history[0]["output"] == 10
    assert run.company_id == tenant.company.pk


def test_trigger_url_refusals_and_rotation(tenant, anon, settings):
    automation = make_automation(tenant.company, FLOW, active=False)
    url = assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]["trigger_url"]
    assert_envelope_error(anon.post(trigger_path(url), {"n": 1}, format="json"), 409, "not active")
    assert_envelope_error(anon.post("/api/v1/automations/trigger/not-a-secret", {}, format="json"), 404)
    assert not AutomationRun.objects.exists()
    assert_ok(
        tenant.admin.client.post(
            SAVE, {"automationid": str(automation.pk), "name": "F", "isactive": True}, format="json"
        )
    )
    rotated = assert_ok(tenant.admin.client.post(ROTATE, {"automationid": str(automation.pk)}, format="json"))
    assert rotated["trigger_url"] != url
    assert_envelope_error(anon.post(trigger_path(url), {"n": 1}, format="json"), 404, "Unknown trigger URL")
    assert_ok(anon.post(trigger_path(rotated["trigger_url"]), {"n": 1}, format="json"), status=202)
    assert AutomationRun.objects.count() == 1
    settings.AUTOMATION_TRIGGER_BASE_URL = "https://toolbox.example.com"
    shown = assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]["trigger_url"]
    assert shown == "https://toolbox.example.com" + trigger_path(rotated["trigger_url"])


def test_trigger_accepts_an_empty_body_and_any_json(tenant, anon):
    automation = make_automation(tenant.company, chain(node("t", "transform", value="{{ input }}")))
    url = trigger_path(
        assert_ok(tenant.admin.client.get(GET, {"automationid": str(automation.pk)}))["automation"]["trigger_url"]
    )
    empty = assert_ok(anon.post(url), status=202)
    listed = assert_ok(anon.post(url, [1, 2], format="json"), status=202)
    assert AutomationRun.objects.get(pk=empty["runid"]).input == {}
    assert AutomationRun.objects.get(pk=listed["runid"]).input == [1, 2]
    assert_envelope_error(anon.post(url, "{not json", content_type="application/json"), 400, "Malformed")


def test_rotate_failures(tenant, outsider, anon):
    theirs = make_automation(outsider.company, FLOW)
    before = theirs.trigger_digest
    assert_envelope_error(tenant.admin.client.post(ROTATE, {"automationid": str(theirs.pk)}, format="json"), 404)
    assert_envelope_error(anon.post(ROTATE, {"automationid": str(theirs.pk)}, format="json"), 401)
    assert_envelope_error(tenant.user.client.post(ROTATE, {"automationid": str(theirs.pk)}, format="json"), 403)
    theirs.refresh_from_db()
    assert theirs.trigger_digest == before


def test_a_trigger_url_is_rate_limited(tenant, anon, settings):
    settings.AUTOMATION_TRIGGER_RATE = "2/min"
    automation = make_automation(tenant.company, FLOW)
    other = make_automation(tenant.company, FLOW)

    def url(item):
        shown = assert_ok(tenant.admin.client.get(GET, {"automationid": str(item.pk)}))["automation"]["trigger_url"]
        return trigger_path(shown)

    for _ in range(2):
        assert_ok(anon.post(url(automation), {"n": 1}, format="json"), status=202)
    limited = anon.post(url(automation), {"n": 1}, format="json")
    assert_envelope_error(limited, 429)
    assert int(limited["Retry-After"]) > 0
    assert_ok(anon.post(url(other), {"n": 1}, format="json"), status=202)
    assert AutomationRun.objects.count() == 3


# --- every endpoint: anonymous 401, another role 403, another company's ids 404, the role may -------------


def _calls(automation, run):
    ids = {"automationid": str(automation.pk)}
    return [
        ("get", GET, ids),
        ("post", SAVE, {**ids, "name": "Renamed"}),
        ("post", TEST, ids),
        ("get", HISTORY, ids),
        ("post", CLONE, {**ids, "name": "Copy"}),
        ("post", ROTATE, ids),
        ("get", RUN_GET, {"runid": str(run.pk)}),
        ("post", RUN_CANCEL, {"runid": str(run.pk)}),
        ("delete", DELETE, {"automations": [str(automation.pk)]}),
    ]


@pytest.mark.parametrize("index", range(9))
def test_every_endpoint_checks_credentials_roles_and_company(index, tenant, outsider, anon):
    from apps.automations.services.runs import run_start

    theirs = make_automation(outsider.company, FLOW, name="Theirs")
    their_run = run_start(automation=theirs, mode="trigger", input={"n": 1})
    method, path, payload = _calls(theirs, their_run)[index]

    def call(client):
        return getattr(client, method)(path, payload, format="json") if method != "get" else client.get(path, payload)

    assert_envelope_error(call(anon), 401)
    assert_envelope_error(call(tenant.user.client), 403)
    assert_envelope_error(call(tenant.member([ACTIVITY_MANAGER]).client), 403)
    assert_envelope_error(call(tenant.member([AUTOMATION_MANAGER]).client), 404)
    theirs.refresh_from_db()
    their_run.refresh_from_db()
    assert (theirs.name, their_run.status, Automation.objects.count()) == ("Theirs", "Running", 1)
    assert AutomationRun.objects.count() == 1
    assert_ok(call(outsider.member([AUTOMATION_MANAGER]).client))
