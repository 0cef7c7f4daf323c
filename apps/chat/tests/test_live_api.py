"""The toolbox's live-chat endpoints: online (presence), archived, stop one, stop all; roles and tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from apps.chat import presence, services
from apps.chat.models import Chat, ChatState
from apps.core.testing import Tenant, assert_envelope_error, assert_ok

BASE = "/api/v1/toolbox/tools/"
ONLINE_PATHS = ["chats/online/get", "chats/get"]


def tenant_chat(tenant: Tenant, user_ref: str = "user123") -> Chat:
    return services.tenant_chat_create(company=tenant.company, external_id=user_ref)[0]


def go_live(chat: Chat) -> presence.Presence:
    entry = presence.socket_presence(company_id=chat.company_id, chat_id=chat.pk)
    assert entry.enter()
    return entry


@pytest.mark.parametrize("path", ONLINE_PATHS)
def test_online_lists_live_chats_with_the_user_block(tenant: Tenant, path: str) -> None:
    idle = tenant_chat(tenant, "idle-user")
    staff = services.dialect_chat_create(company=tenant.company, user=tenant.user.user)
    end_user_chat = tenant_chat(tenant)
    go_live(staff)
    go_live(end_user_chat)
    body = assert_ok(tenant.admin.client.get(BASE + path))
    by_id = {c["chatid"]: c for c in body["chats"]}
    assert set(by_id) == {str(staff.pk), str(end_user_chat.pk)}
    assert str(idle.pk) not in by_id
    user = tenant.user.user
    assert by_id[str(staff.pk)]["user"] == {
        "userid": str(user.pk),
        "email": user.email,
        "fname": user.fname,
        "lname": user.lname,
    }
    row = by_id[str(end_user_chat.pk)]
    assert row["user"] == {"userid": "user123", "email": "", "fname": "", "lname": ""}
    assert row["groupid"] == str(tenant.company.pk)
    assert row["appid"] == end_user_chat.model
    assert row["started"].endswith("Z") and row["ended"] is None


def test_a_stream_in_progress_makes_a_chat_online_until_it_ends(tenant: Tenant) -> None:
    chat = tenant_chat(tenant)
    with presence.presence_streaming(chat):
        assert [c["chatid"] for c in assert_ok(tenant.admin.client.get(BASE + "chats/get"))["chats"]] == [str(chat.pk)]
    assert assert_ok(tenant.admin.client.get(BASE + "chats/get"))["chats"] == []


def test_presence_entries_expire(tenant: Tenant, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import time as real_time

    chat = tenant_chat(tenant)
    go_live(chat)
    assert presence.live_chat_ids(company_id=tenant.company.pk) == {chat.pk}
    later = real_time.time() + settings.CHAT_PRESENCE_TTL_SECONDS + 1
    monkeypatch.setattr(presence.time, "time", lambda: later)  # the clock, not our code, is replaced
    assert presence.live_chat_ids(company_id=tenant.company.pk) == set()
    assert presence.open_socket_count(company_id=tenant.company.pk) == 0


def test_socket_limit_is_per_company(tenant: Tenant, outsider: Tenant) -> None:
    chat, theirs = tenant_chat(tenant), tenant_chat(outsider)
    entries = [presence.socket_presence(company_id=chat.company_id, chat_id=chat.pk) for _ in range(3)]
    assert [entry.enter(limit=2) for entry in entries] == [1, 2, 0]
    assert presence.open_socket_count(company_id=tenant.company.pk) == 2
    assert presence.socket_presence(company_id=theirs.company_id, chat_id=theirs.pk).enter(limit=2)
    entries[0].leave()
    assert entries[2].enter(limit=2)


def test_enter_and_leave_tell_the_chats_count_of_the_same_kind(tenant: Tenant) -> None:
    """The count comes with the write, so of two sockets opening at once exactly one sees itself first."""
    chat, other = tenant_chat(tenant), tenant_chat(tenant, "other")
    first, second = (presence.socket_presence(company_id=chat.company_id, chat_id=chat.pk) for _ in range(2))
    elsewhere = presence.socket_presence(company_id=other.company_id, chat_id=other.pk)
    stream = presence.Presence(company_id=chat.company_id, chat_id=chat.pk, kind=presence.STREAMS)
    assert (first.enter(), elsewhere.enter(), stream.enter(), second.enter()) == (1, 1, 1, 2)
    second.refresh()
    assert presence.chat_socket_count(company_id=chat.company_id, chat_id=chat.pk) == 2
    assert (first.leave(), second.leave(), elsewhere.leave()) == (1, 0, 0)


def test_archived_lists_ended_chats_newest_first(tenant: Tenant, outsider: Tenant) -> None:
    older, newer, open_chat = tenant_chat(tenant, "a"), tenant_chat(tenant, "b"), tenant_chat(tenant, "c")
    tenant_chat(outsider)
    now = timezone.now()
    Chat.objects.filter(pk=older.pk).update(state=ChatState.ARCHIVED, ended_at=now - timezone.timedelta(hours=1))
    Chat.objects.filter(pk=newer.pk).update(state=ChatState.ARCHIVED, ended_at=now)
    Chat.objects.filter(company=outsider.company).update(state=ChatState.ARCHIVED, ended_at=now)
    body = assert_ok(tenant.manager.client.get(BASE + "chats/archived/get"))
    assert [c["chatid"] for c in body["chats"]] == [str(newer.pk), str(older.pk)]
    assert body["chats"][0]["ended"].endswith("Z")
    assert str(open_chat.pk) not in {c["chatid"] for c in body["chats"]}


@pytest.mark.parametrize("how", ["path", "query", "body", "number"])
def test_stop_archives_the_chat(tenant: Tenant, how: str, django_capture_on_commit_callbacks: Any) -> None:
    chat = tenant_chat(tenant)
    client = tenant.key_client()
    with django_capture_on_commit_callbacks(execute=True):
        if how == "path":
            response = client.put(f"{BASE}chat/stop/{chat.pk}")
        elif how == "number":
            response = client.put(f"{BASE}chat/stop/{chat.number}")
        elif how == "query":
            response = client.put(f"{BASE}chat/stop?chatid={chat.pk}")
        else:
            response = client.put(f"{BASE}chat/stop", {"chatid": str(chat.pk)}, format="json")
    assert assert_ok(response)["message"] == "Chat stopped successfully."
    chat.refresh_from_db()
    assert chat.state == ChatState.ARCHIVED
    ended = chat.ended_at
    assert ended is not None
    assert_ok(client.put(f"{BASE}chat/stop/{chat.pk}"))  # again: still fine, ended_at kept
    chat.refresh_from_db()
    assert chat.ended_at == ended


@pytest.mark.parametrize("path", ["chat/stop", "chat/stop/not-an-id", "chat/stop?chatid="])
def test_stop_without_a_valid_chatid_is_400(tenant: Tenant, path: str) -> None:
    assert_envelope_error(tenant.admin.client.put(BASE + path), 400, "Missing or invalid chatid.")


def test_stop_of_unknown_or_another_companys_chat_is_404(tenant: Tenant, outsider: Tenant) -> None:
    theirs = tenant_chat(outsider)
    assert_envelope_error(tenant.admin.client.put(f"{BASE}chat/stop/{theirs.pk}"), 404, "Chat not found.")
    assert_envelope_error(tenant.admin.client.put(f"{BASE}chat/stop/{theirs.number + 1000}"), 404)
    theirs.refresh_from_db()
    assert theirs.state == ChatState.ONLINE


def test_stop_all_archives_only_this_companys_open_chats(tenant: Tenant, outsider: Tenant) -> None:
    mine = [tenant_chat(tenant, f"u{i}") for i in range(3)]
    theirs = tenant_chat(outsider)
    body = assert_ok(tenant.admin.client.put(BASE + "chats/stop"))
    assert (body["message"], body["stopped"]) == ("All chats stopped successfully.", 3)
    assert set(Chat.objects.filter(pk__in=[c.pk for c in mine]).values_list("state", flat=True)) == {"archived"}
    theirs.refresh_from_db()
    assert theirs.state == ChatState.ONLINE
    assert assert_ok(tenant.admin.client.put(BASE + "chats/stop"))["stopped"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "chats/online/get"), ("get", "chats/get"), ("get", "chats/archived/get"),
     ("put", "chat/stop/00000000-0000-0000-0000-000000000000"), ("put", "chats/stop")],
)  # fmt: skip
def test_roles_and_credentials(tenant: Tenant, anon: Any, method: str, path: str) -> None:
    chat = tenant_chat(tenant)
    assert_envelope_error(getattr(anon, method)(BASE + path), 401)
    assert_envelope_error(getattr(tenant.user.client, method)(BASE + path), 403)
    assert_envelope_error(getattr(tenant.member(["Model Manager"]).client, method)(BASE + path), 403)
    chat.refresh_from_db()
    assert chat.state == ChatState.ONLINE  # a refused stop changed nothing


def test_wrong_method_is_405(tenant: Tenant) -> None:
    assert_envelope_error(tenant.admin.client.get(BASE + "chats/stop"), 405)
    assert_envelope_error(tenant.admin.client.post(BASE + "chats/get"), 405)


def test_chat_page_is_served_with_its_script(client: Any) -> None:
    response = client.get("/chat/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'src="/static/chat/chat.js"' in page and 'id="login-form"' in page
    assert client.post("/chat/").status_code == 405
