"""Inputs that used to reach the database or a parser unchecked: each is a clear 4xx and saves nothing."""

from __future__ import annotations

import io
import zipfile

from apps.billing.tests.helpers import SAVE_METHOD, card
from apps.chat.models import Attachment, Chat, EndUser, Prompt
from apps.chat.tests.factories import chat_with_turns, key_only
from apps.core.testing import assert_detail_error, assert_envelope_error


def test_digits_that_int_refuses_are_unknown_ids_not_errors(tenant):
    client = key_only(tenant)
    assert_detail_error(client.get("/api/v1/chats/%C2%B2"), 404)
    assert_detail_error(tenant.user.client.get("/api/chat/prompts/%C2%B2"), 404)
    assert_envelope_error(tenant.admin.client.put("/api/v1/toolbox/tools/chat/stop/%C2%B2"), 400, "chatid")
    assert_envelope_error(tenant.admin.client.put("/api/v1/toolbox/tools/chat/stop/99999999999999999999"), 400)
    stream = tenant.user.client.post(
        "/v1/chat/stream",
        {"session_id": "²", "model": "builtin.assistant", "messages": [{"role": "user", "content": "Hi"}]},
        format="json",
    )
    assert_detail_error(stream, 400, "session")
    refused = tenant.admin.client.post(SAVE_METHOD, card("²" * 16), format="json")
    assert_envelope_error(refused, 400, "cardNumber")


def test_offsets_and_pages_past_any_real_size_are_refused(tenant):
    chat = chat_with_turns(tenant.company, tenant.user.user, "Hello")
    client = key_only(tenant)
    huge = "100000000000000000000"
    assert_detail_error(client.get(f"/api/v1/chats/{chat.pk}/messages?offset={huge}"), 400, "offset")
    assert_detail_error(tenant.user.client.get(f"/v1/chat/history?page={huge}"), 400, "page")
    assert_detail_error(tenant.user.client.get(f"/api/chat/prompts?page={huge}"), 400, "page")
    assert client.get(f"/api/v1/chats/{chat.pk}/messages?offset=1000000000").json()["messages"] == []


def test_nul_characters_are_refused_before_anything_is_saved(tenant):
    client = key_only(tenant)
    created = client.post("/api/v1/chats/", {"user_id": "u1", "metadata": {"a": "x\u0000y"}}, format="json")
    assert_detail_error(created, 400, "NUL")
    assert not Chat.objects.exists() and not EndUser.objects.exists()
    assert_detail_error(client.get("/api/v1/chats/user/%00abc"), 400, "NUL")
    assert_detail_error(client.get("/api/v1/chats/user/abc?x=%00"), 400, "NUL")
    prompt = tenant.user.client.post(
        "/api/chat/prompts", {"title": "T", "content": "C", "metadata": {"k\u0000": 1}}, format="json"
    )
    assert_detail_error(prompt, 400, "NUL")
    assert not Prompt.objects.filter(title="T").exists()
    stream = tenant.user.client.post(
        "/v1/chat/stream",
        {"model": "builtin.assistant", "messages": [{"role": "user", "content": "Hi\u0000"}]},
        format="json",
    )
    assert_detail_error(stream, 400, "NUL")
    toolbox = tenant.admin.client.post("/api/v1/toolbox/tools/actor/save", {"name": "A\u0000"}, format="json")
    assert_envelope_error(toolbox, 400, "NUL")


def test_a_zip_with_an_undecodable_name_is_an_unsupported_file(tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
        archive.writestr("n\u00e9.txt", "x")  # stored with the UTF-8 flag
    data = buffer.getvalue().replace("n\u00e9".encode(), b"n\xa2\xa2")  # same length, no longer UTF-8
    message = chat_with_turns(tenant.company, tenant.user.user, "Hello").messages.get()
    body = {"message_id": str(message.pk), "file": SimpleUploadedFile("f.docx", data)}
    answer = tenant.user.client.post("/chat/attachments", body, format="multipart")
    assert_detail_error(answer, 415)
    assert not Attachment.objects.exists()
