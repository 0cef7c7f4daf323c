"""The conversations dialect: /chat/conversations, /chat/messages, /chat/attachments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.activities.tests.factories import ActivityFactory
from apps.chat.models import Attachment, Chat, Message
from apps.chat.tests.factories import chat_with_turns, pdf_bytes
from apps.chat.turns import chat_context
from apps.core.testing import assert_detail_error

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def conversation(client: Any, user: Any, **extra: Any) -> Any:
    return client.post("/chat/conversations", {"user_id": str(user.pk), "title": "Help", **extra}, format="json")


def upload(client: Any, message_id: Any, data: bytes, name: str = "file.bin", **extra: Any) -> Any:
    body = {"message_id": str(message_id), "file": SimpleUploadedFile(name, data), **extra}
    return client.post("/chat/attachments", body, format="multipart")


# --- conversations ---------------------------------------------------------------------------------------------


def test_create_and_get_a_conversation(tenant):
    activity = ActivityFactory(company=tenant.company, name="Billing", prompt="Answer billing questions.")
    answer = conversation(tenant.user.client, tenant.user.user, activityid=str(activity.pk))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["user_id"], body["title"], body["model"]) == (str(tenant.user.user.pk), "Help", "builtin.assistant")
    assert body["activityid"] == str(activity.pk)
    got = tenant.user.client.get(f"/chat/conversations/{body['id']}")
    assert got.status_code == 200 and got.json() == body
    context = chat_context(Chat.objects.get(pk=body["id"]), [])
    assert "Answer billing questions." in context[0]["content"]


def test_who_may_create_a_conversation_for_whom(tenant, outsider):
    # a plain user only for themselves; a user manager or the key pair for anyone in the company
    assert_detail_error(conversation(tenant.user.client, tenant.admin.user), 403)
    assert conversation(tenant.manager.client, tenant.user.user).status_code == 201
    assert conversation(tenant.key_client(), tenant.user.user).status_code == 201
    assert_detail_error(conversation(tenant.admin.client, outsider.user.user), 404, "user not found")
    assert_detail_error(conversation(tenant.admin.client, tenant.user.user, model="nope.x"), 400, "model")
    assert_detail_error(tenant.admin.client.post("/chat/conversations", {}, format="json"), 400, "user_id")
    assert_detail_error(tenant.admin.client.post("/chat/conversations", {"user_id": "x"}, format="json"), 404)
    assert Chat.objects.count() == 2


def test_get_another_persons_or_companys_conversation_is_not_found(anon, tenant, outsider):
    theirs = chat_with_turns(tenant.company, tenant.admin.user, "a")
    foreign = chat_with_turns(outsider.company, outsider.user.user, "b")
    for chat in (theirs, foreign):
        assert_detail_error(tenant.user.client.get(f"/chat/conversations/{chat.pk}"), 404, "conversation not found")
        assert_detail_error(tenant.user.client.get(f"/chat/conversations/{chat.pk}/messages"), 404)
    assert_detail_error(tenant.user.client.get("/chat/conversations/garbage"), 404)
    assert_detail_error(anon.get(f"/chat/conversations/{theirs.pk}"), 401)
    assert tenant.key_client().get(f"/chat/conversations/{theirs.pk}").status_code == 200


# --- messages ------------------------------------------------------------------------------------------------


def test_add_and_list_messages(tenant):
    chat_id = conversation(tenant.user.client, tenant.user.user, title="").json()["id"]
    client = tenant.user.client
    first = client.post("/chat/messages", {"conversation_id": chat_id, "role": "user", "content": "Hi there"},
                        format="json")  # fmt: skip
    assert first.status_code == 201, first.content
    assert first.json()["conversation_id"] == chat_id and first.json()["role"] == "user"
    client.post("/chat/messages", {"conversation_id": chat_id, "role": "assistant", "content": "Hello"}, format="json")
    listed = client.get(f"/chat/conversations/{chat_id}/messages").json()
    assert [(m["role"], m["content"]) for m in listed] == [("user", "Hi there"), ("assistant", "Hello")]
    assert Chat.objects.get(pk=chat_id).title == "Hi there"


def test_add_message_errors(tenant, outsider):
    chat_id = conversation(tenant.user.client, tenant.user.user).json()["id"]
    foreign = chat_with_turns(outsider.company, outsider.user.user, "x")
    client = tenant.user.client
    cases = [
        ({"conversation_id": chat_id, "role": "robot", "content": "x"}, 400, "role"),
        ({"conversation_id": chat_id, "role": "user"}, 400, "content"),
        ({"conversation_id": chat_id, "role": "user", "content": ""}, 400, "content"),
        ({"role": "user", "content": "x"}, 400, "conversation_id"),
        ({"conversation_id": str(foreign.pk), "role": "user", "content": "x"}, 404, "conversation not found"),
        ({"conversation_id": "nope", "role": "user", "content": "x"}, 404, "conversation not found"),
    ]
    for body, status, contains in cases:
        assert_detail_error(client.post("/chat/messages", body, format="json"), status, contains)
    assert Message.objects.filter(company=tenant.company).count() == 0


# --- attachments -----------------------------------------------------------------------------------------------


@pytest.fixture
def message(tenant: Any) -> Message:
    chat = chat_with_turns(tenant.company, tenant.user.user, "Look at this")
    return chat.messages.get()


def test_upload_and_list_attachments(tenant, message):
    client = tenant.user.client
    answer = upload(client, message.pk, pdf_bytes("Quarterly report: revenue up 12 percent"), "report.pdf",
                    file_type="pdf")  # fmt: skip
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["file_type"], body["filename"], body["pages"]) == ("application/pdf", "report.pdf", 1)
    assert body["message_id"] == str(message.pk) and body["conversation_id"] == str(message.chat_id)
    stored = Attachment.objects.get(pk=body["id"])
    assert body["file_path"] == stored.file.name and stored.file.name.endswith(".pdf")
    assert "revenue up 12 percent" in stored.text
    image = upload(client, message.pk, PNG, "../../../etc/passwd").json()
    assert image["file_type"] == "image/png" and image["filename"] == "passwd"
    assert image["file_path"].startswith(f"chat-attachments/{tenant.company.pk}/")
    listed = client.get(f"/chat/messages/{message.pk}/attachments").json()
    assert [a["id"] for a in listed] == [body["id"], image["id"]]
    context = chat_context(message.chat, list(message.chat.messages.all()))
    assert "revenue up 12 percent" in context[0]["content"]


def test_upload_errors_save_nothing(tenant, outsider, message, settings):
    client = tenant.user.client
    assert_detail_error(upload(client, message.pk, b"\x00\x01\x02binary junk"), 415, "unsupported")
    assert_detail_error(upload(client, message.pk, PNG, file_type="pdf"), 400, "file_type")
    settings.CHAT_UPLOAD_MAX_BYTES = 1024
    assert_detail_error(upload(client, message.pk, PNG + b"\x00" * 2000), 413)
    settings.CHAT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    path_only = client.post("/chat/attachments", {"message_id": str(message.pk), "file_path": "/etc/passwd",
                                                  "file_type": "pdf"}, format="json")  # fmt: skip
    assert_detail_error(path_only, 400, "file")
    foreign = chat_with_turns(outsider.company, outsider.user.user, "x").messages.get()
    assert_detail_error(upload(client, foreign.pk, PNG), 404, "message not found")
    assert_detail_error(upload(client, "not-an-id", PNG), 404)
    assert_detail_error(client.get(f"/chat/messages/{foreign.pk}/attachments"), 404)
    theirs = chat_with_turns(tenant.company, tenant.admin.user, "x").messages.get()
    assert_detail_error(upload(client, theirs.pk, PNG), 404)
    assert not Attachment.objects.exists()
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == []  # no file left behind
