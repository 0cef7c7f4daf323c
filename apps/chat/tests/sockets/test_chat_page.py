"""The chat page in headless Chromium against a real daphne: sign in, pick a model, stream, reconnect, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.chat.models import Chat, Message
from apps.chat.tests.browser import Browser
from apps.chat.tests.daphne import Daphne
from apps.core.testing import PASSWORD, Tenant, assert_ok

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    chromium = Browser(tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def js(value: Any) -> str:
    return json.dumps(value)


def sign_in(browser: Browser, server: Daphne, email: str, password: str) -> None:
    browser.open(f"{server.http}/chat/")
    browser.wait("!document.getElementById('login-view').hidden")
    browser.evaluate(
        f"document.getElementById('login-email').value = {js(email)};"
        f"document.getElementById('login-password').value = {js(password)};"
        "document.getElementById('login-form').requestSubmit(); true"
    )


def type_message(browser: Browser, text: str) -> None:
    browser.evaluate(
        f"document.getElementById('content').value = {js(text)};"
        "document.getElementById('send-form').requestSubmit(); true"
    )


def last_answer(browser: Browser) -> str:
    return browser.wait(
        "(() => { const items = [...document.querySelectorAll('#messages li')];"
        " const last = items[items.length - 1];"
        " return last && last.className === 'assistant' && last.textContent ? last.textContent : null; })()"
    )


def test_a_typed_message_gets_a_streamed_answer_and_the_page_reconnects(
    daphne: Daphne, tenant: Tenant, browser: Browser
) -> None:
    sign_in(browser, daphne, "wrong@example.com", "nope")
    error = browser.wait("!document.getElementById('error').hidden && document.getElementById('error').textContent")
    assert error.startswith("Sign-in failed:")

    sign_in(browser, daphne, tenant.user.user.email, PASSWORD)
    browser.wait("!document.getElementById('chat-view').hidden")
    browser.wait("[...document.querySelectorAll('#target option')].some(o => o.value === 'model:builtin.assistant')")
    browser.evaluate("document.getElementById('target').value = 'model:builtin.assistant'; true")
    browser.evaluate("document.getElementById('new-chat').click(); true")
    browser.wait("document.getElementById('status').textContent === 'Connected'")

    # Count the page's updates of the answer: a streamed answer grows in several steps.
    browser.evaluate(
        "window.updates = 0; new MutationObserver((m) => { window.updates += m.length; })"
        ".observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true}); true"
    )
    type_message(browser, "Hello from the browser, please answer")
    answer = last_answer(browser)
    assert browser.evaluate("window.updates") > 4
    chat_id = browser.evaluate("window.symbientChat.chatId")
    chat = Chat.objects.get(pk=chat_id)
    assert chat.user_id == tenant.user.user.pk
    stored = list(Message.objects.filter(chat=chat).order_by("created_at").values_list("role", "content"))
    assert stored == [("user", "Hello from the browser, please answer"), ("assistant", answer)]
    browser.wait(f"document.querySelector('#chats li[data-chat-id={js(chat_id)}]') !== null")

    # A dropped connection: the page reconnects to the same chat and goes on.
    browser.evaluate("window.symbientChat.ws.close(); true")
    browser.wait(
        "window.symbientChat.reconnects === 1 && document.getElementById('status').textContent === 'Connected'"
    )
    assert browser.evaluate("window.symbientChat.chatId") == chat_id
    type_message(browser, "Still there?")
    browser.wait(
        "document.querySelectorAll('#messages li.assistant').length === 2 && !document.querySelector('.streaming')"
    )
    assert Message.objects.filter(chat=chat).count() == 4

    # An administrator stops the chat: the page says so plainly and does not reconnect.
    assert_ok(tenant.admin.client.put(f"/api/v1/toolbox/tools/chat/stop/{chat_id}"))
    shown = browser.wait("!document.getElementById('error').hidden && document.getElementById('error').textContent")
    assert "stopped" in shown
    browser.wait("document.getElementById('status').textContent === 'Disconnected'")
    assert browser.evaluate("window.symbientChat.reconnects") == 1


def test_a_past_chat_shows_its_messages(daphne: Daphne, tenant: Tenant, browser: Browser) -> None:
    older = Chat.objects.get(pk=_chat_with_a_turn(tenant))
    sign_in(browser, daphne, tenant.user.user.email, PASSWORD)
    selector = f"#chats li[data-chat-id={js(str(older.pk))}] button"
    browser.wait(f"document.querySelector({js(selector)}) !== null")
    browser.evaluate(f"document.querySelector({js(selector)}).click(); true")
    browser.wait("document.getElementById('status').textContent === 'Connected'")
    shown = browser.evaluate("[...document.querySelectorAll('#messages li')].map(li => [li.className, li.textContent])")
    stored = list(Message.objects.filter(chat=older).order_by("created_at").values_list("role", "content"))
    assert [tuple(item) for item in shown] == stored
    assert len(stored) == 2


def _chat_with_a_turn(tenant: Tenant) -> str:
    from apps.chat.services import dialect_chat_create
    from apps.chat.turns import chat_turn_run

    chat = dialect_chat_create(company=tenant.company, user=tenant.user.user, title="Earlier chat")
    chat_turn_run(chat=chat, content="What did I ask before?", user=tenant.user.user, source="test")
    return str(chat.pk)
