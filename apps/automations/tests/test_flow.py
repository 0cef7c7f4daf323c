"""The flow is checked on save: each kind of mistake answers 400 naming the node, and nothing is saved."""

from __future__ import annotations

import pytest

from apps.automations.models import Automation
from apps.automations.tests.conftest import SAVE, chain, node
from apps.core.testing import assert_envelope_error, assert_ok

pytestmark = pytest.mark.django_db


def save(client, flow):
    return client.post(SAVE, {"name": "Flow", "flow": flow}, format="json")


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ({"nodes": [node("a", "teleport")]}, "node 'a' has an unknown operator 'teleport'"),
        ({"nodes": [{"type": "transform", "settings": {"value": 1}}]}, "node 1 needs an `id`"),
        ({"nodes": [node("a b", "transform", value=1)]}, "node 1 needs an `id`"),
        ({"nodes": [node("a", "transform", value=1), node("a", "delay", seconds=1)]}, "'a' is used twice"),
        ({"nodes": [node("fetch", "http_request")]}, "node 'fetch' (http_request) is missing the setting 'url'"),
        ({"nodes": [node("t", "transform")]}, "node 't' (transform) is missing the setting 'value'"),
        (
            {"nodes": [node("t", "transform", value=1, colour="red")]},
            "node 't' (transform) has unknown settings: colour",
        ),
        (
            {"nodes": [node("a", "transform", value=1)], "edges": [{"from": "a", "to": "ghost"}]},
            "edge 1 has `to` 'ghost', which is not a node",
        ),
        (
            {
                **chain(node("a", "transform", value=1), node("b", "transform", value=2)),
                "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}],
            },
            "cycle through 'a' → 'b' → 'a'",
        ),
        (
            {"nodes": [node("a", "transform", value=1)], "edges": [{"from": "a", "to": "a"}]},
            "cycle through 'a' → 'a'",
        ),
        (
            {
                **chain(node("a", "transform", value=1), node("b", "transform", value=2)),
                "edges": [{"from": "a", "to": "b", "when": "true"}],
            },
            "only condition nodes branch",
        ),
        ({"nodes": [node("t", "transform", value="{{ input.x ")]}, "node 't' (transform): a template does not parse"),
        ({"nodes": [node("c", "condition", expression="input.x >")]}, "node 'c' (condition): the expression"),
        ({"nodes": [node("d", "delay", seconds=-1)]}, "node 'd' (delay): the setting 'seconds'"),
        ({"nodes": [node("d", "delay", seconds=100000)]}, "node 'd' (delay): the setting 'seconds'"),
        (
            {"nodes": [node("h", "http_request", url="http://x", method="BREW")]},
            "node 'h' (http_request): the setting 'method'",
        ),
        ({"nodes": [node("h", "http_request", url="http://x", body="b")]}, "node 'h' (http_request): a GET request"),
        ({"nodes": [node("t", "transform", value=1, timeout=0)]}, "node 't' (transform): `timeout`"),
        ({"nodes": [node("t", "transform", value=1, continue_on_error="yes")]}, "`continue_on_error`"),
        ({"nodes": "all of them"}, "`nodes` and `edges` must be lists"),
        ({"steps": []}, "unknown keys: steps"),
        ([1, 2], "must be a JSON object"),
        ({"nodes": [], "time_limit": 10**9}, "`time_limit`"),
    ],
)
def test_bad_flows_are_refused_naming_the_problem(tenant, flow, message):
    body = assert_envelope_error(save(tenant.admin.client, flow), 400)
    assert message in body["error"], body["error"]
    assert body["error"].startswith("Invalid flow:")
    assert not Automation.objects.exists()


def test_an_update_with_a_bad_flow_keeps_the_old_one(tenant):
    good = chain(node("a", "transform", value=1))
    automation_id = assert_ok(save(tenant.admin.client, good))["automationid"]
    payload = {"automationid": automation_id, "name": "Renamed", "flow": {"nodes": [node("a", "teleport")]}}
    assert_envelope_error(tenant.admin.client.post(SAVE, payload, format="json"), 400, "unknown operator")
    automation = Automation.objects.get(pk=automation_id)
    assert automation.flow == good and automation.name == "Flow"


def test_a_good_flow_with_branches_joins_and_metadata_is_saved(tenant):
    flow = {
        "nodes": [
            node("start", "transform", value="{{ input }}"),
            node("check", "condition", expression="results.start.total > 100"),
            node("big", "transform", value="big", name="Big order", description="Tags it."),
            node("small", "transform", value="small", continue_on_error=True, timeout=5),
            {
                **node("join", "transform", value="{{ results.big if 'big' in results else results.small }}"),
                "meta": {"x": 1},
            },
        ],
        "edges": [
            {"from": "start", "to": "check"},
            {"from": "check", "to": "big", "when": "true"},
            {"from": "check", "to": "small", "when": False},
            {"from": "big", "to": "join"},
            {"from": "small", "to": "join"},
        ],
        "sample_input": {"total": 150},
        "time_limit": 60,
        "meta": {"editor": "v1"},
    }
    body = assert_ok(save(tenant.admin.client, flow))
    assert Automation.objects.get(pk=body["automationid"]).flow == flow


def test_an_empty_flow_is_allowed(tenant):
    assert_ok(save(tenant.admin.client, {}))
    assert Automation.objects.get().flow == {}
