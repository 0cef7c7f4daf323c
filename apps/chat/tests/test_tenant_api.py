"""The tenant chat API's REST part: /api/v1/chats/... with X-API-Key alone, and its shared rate limit."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.actors.tests.factories import ActorFactory
from apps.chat.models import Chat, EndUser, Message
from apps.chat.tests.factories import chat_with_turns, key_only
from apps.core.testing import _test_database_url, assert_detail_error

BASE = "/api/v1/chats"


def create(client: APIClient, **body: Any) -> Any:
    return client.post(f"{BASE}/", {"user_id": "user123", **body}, format="json")


def test_create_a_chat_creates_the_end_user_once(tenant):
    client = key_only(tenant)
    answer = create(client, title="Account help", metadata={"channel": "web"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["user_id"] == "user123" and body["user_created"] is True
    assert (body["title"], body["metadata"], body["model"], body["state"]) == (
        "Account help", {"channel": "web"}, "builtin.assistant", "online",
    )  # fmt: skip
    assert body["actorid"] is None and body["created_at"].endswith("Z")
    again = create(client).json()
    assert again["user_created"] is False and again["id"] != body["id"]
    assert EndUser.objects.filter(company=tenant.company, external_id="user123").count() == 1
    end_user = EndUser.objects.get(external_id="user123")
    assert end_user.chats.count() == 2
    assert answer["X-RateLimit-Limit"] == "100"


def test_create_with_an_actor_makes_its_prompt_the_system_message(tenant):
    actor = ActorFactory(company=tenant.company, name="Support bot", prompt="Be kind.")
    body = create(key_only(tenant), actorid=str(actor.pk), model="builtin.assistant").json()
    assert body["actorid"] == str(actor.pk)
    from apps.chat.turns import chat_context

    chat = Chat.objects.get(pk=body["id"])
    context = chat_context(chat, [])
    assert context[0]["role"] == "system" and "You are Support bot." in context[0]["content"]


@pytest.mark.parametrize(
    ("body", "status", "contains"),
    [
        ({"user_id": ""}, 400, "user_id"),
        ({"user_id": "x" * 201}, 400, "user_id"),
        ({"user_id": None}, 400, "user_id"),
        ({"user_id": "bad\nid"}, 400, "user_id"),
        ({"user_id": "u", "model": "nope.model"}, 400, "model"),
        ({"user_id": "u", "metadata": "x"}, 400, "metadata"),
        ({"user_id": "u", "title": "t" * 301}, 400, "title"),
        ({"user_id": "u", "actorid": "0b9ed9b6-5d59-4bbf-a0c1-8d1d4bc4d0a6"}, 404, "actor"),
        ({"user_id": "u", "activityid": "nope"}, 404, "activity"),
    ],
)
def test_create_refuses_bad_input_and_saves_nothing(tenant, body, status, contains):
    answer = key_only(tenant).post(f"{BASE}/", body, format="json")
    assert_detail_error(answer, status, contains)
    assert not Chat.objects.exists() and not EndUser.objects.exists()


def test_create_with_another_companys_actor_is_not_found(tenant, outsider):
    actor = ActorFactory(company=outsider.company)
    assert_detail_error(create(key_only(tenant), actorid=str(actor.pk)), 404, "actor")


def test_only_the_api_key_authenticates(tenant, anon):
    assert_detail_error(create(anon), 401)
    bad = APIClient()
    bad.credentials(HTTP_X_API_KEY="sk-wrong")
    assert_detail_error(create(bad), 401)
    assert_detail_error(create(tenant.user.client), 401)  # a staff JWT is not this surface's credential
    assert create(tenant.key_client()).status_code == 201  # the Enc key alongside is harmless


def test_list_an_end_users_chats(tenant, outsider):
    client = key_only(tenant)
    first = create(client).json()
    second = create(client).json()
    create(client, user_id="someone-else")
    create(key_only(outsider))  # the same end-user id at another company
    body = client.get(f"{BASE}/user/user123").json()
    assert body["user_id"] == "user123" and body["total"] == 2
    assert {c["id"] for c in body["chats"]} == {first["id"], second["id"]}
    assert client.get(f"{BASE}/user/nobody").json() == {"user_id": "nobody", "chats": [], "total": 0}
    slashed = create(client, user_id="crm/42").json()
    assert [c["id"] for c in client.get(f"{BASE}/user/crm/42").json()["chats"]] == [slashed["id"]]


def test_get_a_chat_and_another_companys_is_not_found(tenant, outsider):
    client = key_only(tenant)
    created = create(client).json()
    answer = client.get(f"{BASE}/{created['id']}")
    assert answer.status_code == 200 and answer.json()["id"] == created["id"]
    assert client.get(f"{BASE}/{created['number']}").json()["id"] == created["id"]
    foreign = create(key_only(outsider)).json()
    assert_detail_error(client.get(f"{BASE}/{foreign['id']}"), 404, "chat not found")
    assert_detail_error(client.get(f"{BASE}/not-a-chat"), 404)


def test_messages_paginate_with_offset_limit_order_and_metadata(tenant, outsider):
    client = key_only(tenant)
    chat = Chat.objects.get(pk=create(client).json()["id"])
    Message.objects.bulk_create(
        Message(company=tenant.company, chat=chat, role="user" if i % 2 == 0 else "assistant", content=f"m{i}")
        for i in range(7)
    )
    url = f"{BASE}/{chat.pk}/messages"
    body = client.get(url, {"limit": 3}).json()
    assert [m["content"] for m in body["messages"]] == ["m0", "m1", "m2"]
    assert (body["total"], body["offset"], body["limit"], body["has_more"]) == (7, 0, 3, True)
    last = client.get(url, {"offset": 6, "limit": 3}).json()
    assert [m["content"] for m in last["messages"]] == ["m6"] and last["has_more"] is False
    exact = client.get(url, {"offset": 4, "limit": 3}).json()
    assert len(exact["messages"]) == 3 and exact["has_more"] is False
    beyond = client.get(url, {"offset": 50}).json()
    assert beyond["messages"] == [] and beyond["has_more"] is False and beyond["total"] == 7
    desc = client.get(url, {"order": "desc", "limit": 2}).json()
    assert [m["content"] for m in desc["messages"]] == ["m6", "m5"]
    default = client.get(url).json()
    assert default["limit"] == 50 and len(default["messages"]) == 7
    for query, field in (({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"offset": -1}, "offset"),
                         ({"order": "up"}, "order"), ({"limit": "x"}, "limit")):  # fmt: skip
        assert_detail_error(client.get(url, query), 400, field)
    foreign = chat_with_turns(outsider.company, outsider.user.user, "x")
    assert_detail_error(client.get(f"{BASE}/{foreign.pk}/messages"), 404)


def test_delete_a_chat(tenant, outsider):
    client = key_only(tenant)
    created = create(client).json()
    foreign = create(key_only(outsider)).json()
    assert_detail_error(client.delete(f"{BASE}/{foreign['id']}"), 404)
    answer = client.delete(f"{BASE}/{created['id']}")
    assert answer.status_code == 200 and answer.json()["chat_id"] == created["id"]
    assert_detail_error(client.delete(f"{BASE}/{created['id']}"), 404)
    assert list(Chat.objects.values_list("pk", flat=True)) == [__import__("uuid").UUID(foreign["id"])]


def test_a_chat_made_in_one_dialect_is_visible_in_the_others(tenant):
    """Tenant API → stream dialect history and gateway list; gateway → tenant API; stream → conversations."""
    client = key_only(tenant)
    created = create(client, title="From the tenant API").json()
    history = tenant.key_client().get("/v1/chat/history").json()
    assert [s["uuid"] for s in history["sessions"]] == [created["id"]]
    gateway = tenant.key_client().get("/api/v1/chats").json()
    assert [c["id"] for c in gateway] == [created["id"]]
    staff = chat_with_turns(tenant.company, tenant.user.user, "hello", "hi")
    seen = client.get(f"{BASE}/{staff.pk}").json()
    assert seen["user_id"] == str(tenant.user.user.pk) and seen["number"] == staff.number
    messages = client.get(f"{BASE}/{staff.pk}/messages").json()
    assert [m["content"] for m in messages["messages"]] == ["hello", "hi"]
    conversation = tenant.user.client.get(f"/chat/conversations/{staff.pk}")
    assert conversation.status_code == 200 and conversation.json()["id"] == str(staff.pk)


# --- the rate limit ---------------------------------------------------------------------------------------


def at_the_start_of_a_minute() -> None:
    """The limit counts per clock minute: start a counting test well inside one, not at its edge."""
    if time.time() % 60 > 45:
        time.sleep(60.5 - time.time() % 60)


def test_rate_limit_headers_on_every_answer_and_429_past_the_limit(tenant, outsider, settings):
    settings.TENANT_CHAT_REQUESTS_PER_MINUTE = 3
    at_the_start_of_a_minute()
    client = key_only(tenant)
    answers = [client.get(f"{BASE}/user/u1") for _ in range(3)]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert all(a["X-RateLimit-Limit"] == "3" for a in answers)
    reset = int(answers[0]["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 60
    refused = client.get(f"{BASE}/user/u1")
    assert_detail_error(refused, 429, "rate limit")
    assert refused["X-RateLimit-Remaining"] == "0" and int(refused["Retry-After"]) >= 1
    assert_detail_error(create(client), 429)  # writes count too, and nothing is created
    assert not Chat.objects.exists()
    # an error answer carries the headers too, and another company has its own count
    other = key_only(outsider)
    missing = other.get(f"{BASE}/not-a-chat")
    assert missing.status_code == 404 and missing["X-RateLimit-Remaining"] == "2"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(transactional_db: Any, tmp_path: Any) -> Iterator[list[int]]:
    """Two daphne processes on the test database and the same Redis, as behind a load balancer."""
    ports = [_free_port(), _free_port()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "TENANT_CHAT_REQUESTS_PER_MINUTE": "10",
    }
    daphne = str(Path(sys.executable).parent / "daphne")
    processes = []
    for port in ports:
        log = (tmp_path / f"daphne-{port}.log").open("w")
        processes.append(
            subprocess.Popen(
                [daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((tmp_path / f"daphne-{port}.log").read_text()) from None
                    time.sleep(0.1)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _get(port: int, path: str, apikey: str) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"X-API-Key": apikey})
        response = conn.getresponse()
        json.loads(response.read())
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


@pytest.mark.worker
def test_two_server_processes_share_one_count(two_servers, tenant):
    first, second = two_servers
    seen = []
    at_the_start_of_a_minute()
    for index in range(10):  # alternate between the two processes
        status, headers = _get(two_servers[index % 2], f"{BASE}/user/u1", tenant.apikey)
        assert status == 200
        seen.append(int(headers["x-ratelimit-remaining"]))
    assert seen == list(range(9, -1, -1))  # one falling count, not two counts of 5
    assert _get(first, f"{BASE}/user/u1", tenant.apikey)[0] == 429
    assert _get(second, f"{BASE}/user/u1", tenant.apikey)[0] == 429
