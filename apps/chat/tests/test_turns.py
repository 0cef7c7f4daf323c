"""chat_turn_stream, the one reply service of the chat dialects, against the fake upstream on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest
from django.core.files.base import ContentFile

from apps.actors.tests.factories import ActorFactory
from apps.chat import presence, services
from apps.chat.models import Attachment, Chat, CompletionUsage, EndUser, Message
from apps.chat.tests.factories import make_provider
from apps.chat.turns import (
    StreamEnded,
    StreamStarted,
    Token,
    UserMessageStored,
    attachment_context,
    chat_turn_run,
    chat_turn_stream,
)
from apps.core.exceptions import InvalidInput, NotFound, RateLimited
from apps.core.testing import make_tenant
from apps.models_registry.providers.engines import ProviderError, close_sessions

pytestmark = pytest.mark.django_db(transaction=True)


def run(coro: Any) -> Any:
    """Run a coroutine on a fresh loop, closing the pooled upstream session bound to it."""

    async def main() -> Any:
        try:
            return await coro
        finally:
            await close_sessions()

    return asyncio.run(main())


async def collect(**kwargs: Any) -> list[Any]:
    return [event async for event in chat_turn_stream(**kwargs)]


@pytest.fixture
def company(upstream: Any) -> Any:
    tenant = make_tenant("Turns Co")
    make_provider(tenant.company, upstream.url)
    return tenant.company


def new_chat(company: Any, model: str = "acme.gpt-test", **kw: Any) -> Chat:
    chat, _ = services.tenant_chat_create(company=company, external_id="end-1", model=model, **kw)
    return chat


def test_a_turn_stores_both_messages_streams_tokens_and_records_usage(company: Any, upstream: Any) -> None:
    chat = new_chat(company)
    events = run(collect(chat=chat, content="Hello there", end_user=chat.end_user, source="test"))
    kinds = [type(e) for e in events]
    assert kinds[:2] == [UserMessageStored, StreamStarted]
    assert kinds[-1] is StreamEnded
    assert all(kind is Token for kind in kinds[2:-1]) and len(kinds) > 4
    assert "".join(e.text for e in events if isinstance(e, Token)) == "Echo: Hello there"
    ended = events[-1]
    assert ended.message.content == "Echo: Hello there"
    assert ended.message.id == events[1].message_id
    assert ended.usage == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert list(Message.objects.filter(chat=chat).values_list("role", "content")) == [
        ("user", "Hello there"),
        ("assistant", "Echo: Hello there"),
    ]
    usage = CompletionUsage.objects.get(chat=chat)
    assert (usage.source, usage.outcome, usage.total_tokens, usage.stream) == ("test", "ok", 18, True)
    chat.refresh_from_db()
    assert chat.title == "Hello there"
    assert upstream.requests[-1].body["model"] == "gpt-test"


def test_the_next_turn_sends_the_whole_history_after_the_actor_prompt(company: Any, upstream: Any) -> None:
    actor = ActorFactory(company=company, name="Ada", prompt="Answer briefly.")
    chat = new_chat(company, actorid=str(actor.pk))
    run(collect(chat=chat, content="First", source="test"))
    run(collect(chat=chat, content="Second", source="test"))
    sent = upstream.requests[-1].body["messages"]
    assert sent[0]["role"] == "system"
    assert "You are Ada." in sent[0]["content"] and "Answer briefly." in sent[0]["content"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "First"),
        ("assistant", "Echo: First"),
        ("user", "Second"),
    ]


def test_attachment_text_is_context_and_is_trimmed_to_the_budget(company: Any, upstream: Any, settings: Any) -> None:
    chat = new_chat(company)
    Attachment.objects.create(
        company=company, chat=chat, file=ContentFile(b"%PDF", name="a.pdf"), filename="old.pdf",
        content_type="application/pdf", text="alpha " * 50,
    )  # fmt: skip
    Attachment.objects.create(
        company=company, chat=chat, file=ContentFile(b"%PDF", name="b.pdf"), filename="new.pdf",
        content_type="application/pdf", text="Invoice total is 42 euros.",
    )  # fmt: skip
    run(collect(chat=chat, content="What is the total?", source="test"))
    system = upstream.requests[-1].body["messages"][0]
    assert system["role"] == "system"
    assert "Document new.pdf:\nInvoice total is 42 euros." in system["content"]
    assert "Document old.pdf:" in system["content"]
    # With a budget of 20 tokens the newest document comes whole, the older one is cut, marked.
    settings.CHAT_ATTACHMENT_CONTEXT_TOKENS = 20
    texts = attachment_context(list(chat.attachments.all()), 10_000)
    assert texts[1] == "Document new.pdf:\nInvoice total is 42 euros."
    assert texts[0].startswith("Document old.pdf:\nalpha") and texts[0].endswith("[…]")
    assert texts[0].count("alpha") < 50
    settings.CHAT_ATTACHMENT_CONTEXT_TOKENS = 12
    assert attachment_context(list(chat.attachments.all()), 10_000) == ["Document new.pdf:\nInvoice total is 42 euros."]


def test_bad_content_is_refused_before_anything_is_stored(company: Any) -> None:
    chat = new_chat(company)
    for content in ("", "   ", None, "x" * 40_000):
        with pytest.raises(InvalidInput):
            run(collect(chat=chat, content=content, source="test"))
    assert not Message.objects.filter(chat=chat).exists()
    assert not CompletionUsage.objects.exists()


def test_a_provider_error_is_raised_before_the_first_event_and_the_message_kept(company: Any) -> None:
    chat = new_chat(company, model="acme.error500")
    seen: list[Any] = []

    async def consume() -> None:
        async for event in chat_turn_stream(chat=chat, content="Hi", source="test"):
            seen.append(event)

    with pytest.raises(ProviderError):
        run(consume())
    assert seen == []
    assert list(Message.objects.filter(chat=chat).values_list("role", flat=True)) == ["user"]
    assert CompletionUsage.objects.get(chat=chat).outcome == "error"


def test_a_stream_broken_midway_keeps_what_arrived(company: Any) -> None:
    chat = new_chat(company, model="acme.cut")
    seen: list[Any] = []

    async def consume() -> None:
        async for event in chat_turn_stream(chat=chat, content="Hi", source="test"):
            seen.append(event)

    with pytest.raises(ProviderError):
        run(consume())
    assert [type(e) for e in seen[:2]] == [UserMessageStored, StreamStarted]
    reply = Message.objects.get(chat=chat, role="assistant")
    assert reply.content == "Echo: par"
    assert CompletionUsage.objects.get(chat=chat).outcome == "error"


def test_cancelling_the_consumer_cancels_the_upstream_and_stores_the_partial_reply(company: Any, upstream: Any) -> None:
    chat = new_chat(company, model="acme.long")

    async def consume(tokens: list[str]) -> None:
        async with contextlib.aclosing(chat_turn_stream(chat=chat, content="Go", source="test")) as events:
            async for event in events:
                if isinstance(event, Token):
                    tokens.append(event.text)

    async def main() -> list[str]:
        tokens: list[str] = []
        task = asyncio.create_task(consume(tokens))
        while len(tokens) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return tokens

    tokens = run(main())
    reply = Message.objects.get(chat=chat, role="assistant")
    assert reply.content.startswith("".join(tokens[:3]))
    assert 0 < len(reply.content) < 2000 * 4
    assert CompletionUsage.objects.get(chat=chat).outcome == "cancelled"
    deadline = asyncio.run(_wait_for_event(upstream, "disconnected"))
    assert deadline, upstream.events


def test_presence_refresh_runs_off_the_event_loop_while_a_reply_streams(
    company: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refreshing presence is blocking Redis I/O: it must not stall every other socket of the process."""
    settings.CHAT_PRESENCE_TTL_SECONDS = 1  # a refresh is due every third of a second
    chat = new_chat(company, model="acme.long")
    threads: list[int] = []
    real_refresh = presence.Presence.refresh

    def refresh(entry: presence.Presence) -> None:  # records where it runs, then does the real work
        threads.append(threading.get_ident())
        real_refresh(entry)

    monkeypatch.setattr(presence.Presence, "refresh", refresh)

    async def main() -> int:
        async with contextlib.aclosing(chat_turn_stream(chat=chat, content="Go", source="test")) as events:
            started = asyncio.get_running_loop().time()
            async for _ in events:
                if asyncio.get_running_loop().time() - started > 0.8:
                    break
        return threading.get_ident()

    loop_thread = run(main())
    assert threads, "no refresh was due in 0.8 s"
    assert loop_thread not in threads


async def _wait_for_event(upstream: Any, name: str) -> bool:
    for _ in range(200):
        if name in upstream.events:
            return True
        await asyncio.sleep(0.02)
    return False


def test_another_end_users_chat_is_not_found(company: Any) -> None:
    chat = new_chat(company)
    other, _ = services.end_user_get_or_create(company=company, external_id="end-2")
    with pytest.raises(NotFound):
        run(collect(chat=chat, content="Hi", end_user=other, source="test"))
    assert not Message.objects.filter(chat=chat).exists()


def test_the_rate_limit_is_checked_before_anything(company: Any, settings: Any) -> None:
    settings.GATEWAY_REQUESTS_PER_MINUTE = 1
    chat = new_chat(company)
    run(collect(chat=chat, content="One", source="test"))
    with pytest.raises(RateLimited):
        run(collect(chat=chat, content="Two", source="test"))
    assert Message.objects.filter(chat=chat).count() == 2


def test_the_sync_wrapper_and_the_default_builtin_model(company: Any) -> None:
    chat, created = services.tenant_chat_create(company=company, external_id="end-9")
    assert created and chat.model == "builtin.assistant"
    events = chat_turn_run(chat=chat, content="Hello", source="test")
    assert isinstance(events[-1], StreamEnded)
    assert events[-1].message.content
    assert Message.objects.filter(chat=chat).count() == 2


# --- end-users and tenant chats ------------------------------------------------------------------------


def test_end_user_get_or_create_validates_and_reuses(company: Any) -> None:
    first, created = services.end_user_get_or_create(company=company, external_id="user123")
    again, created_again = services.end_user_get_or_create(company=company, external_id="user123")
    assert created and not created_again and first.pk == again.pk
    for bad in ("", "  ", "x" * 201, "tab\there", None, ["a"]):
        with pytest.raises(InvalidInput):
            services.end_user_get_or_create(company=company, external_id=bad)
    other = make_tenant("Other Co").company
    theirs, created_theirs = services.end_user_get_or_create(company=other, external_id="user123")
    assert created_theirs and theirs.pk != first.pk


def test_tenant_chat_create_checks_model_and_actor_and_saves_nothing_on_failure(company: Any) -> None:
    with pytest.raises(InvalidInput):
        services.tenant_chat_create(company=company, external_id="new-user", model="nope.model")
    other_actor = ActorFactory(company=make_tenant("Other Co").company)
    with pytest.raises(NotFound):
        services.tenant_chat_create(company=company, external_id="new-user", actorid=str(other_actor.pk))
    with pytest.raises(InvalidInput):
        services.tenant_chat_create(company=company, external_id="new-user", metadata=["x"])  # type: ignore[arg-type]
    assert not EndUser.objects.filter(external_id="new-user").exists()
    assert not Chat.objects.exists()
    chat, created = services.tenant_chat_create(
        company=company, external_id="new-user", title="Help", metadata={"plan": "pro"}, model="acme.gpt-test"
    )
    assert created and chat.end_user.external_id == "new-user" and chat.user_ref == "new-user"
    assert (chat.title, chat.metadata, chat.model, chat.number) == ("Help", {"plan": "pro"}, "acme.gpt-test", 1)


def test_a_chat_shows_as_live_while_its_reply_streams_and_not_after(company: Any) -> None:
    from asgiref.sync import sync_to_async

    from apps.chat.presence import live_chat_ids

    chat = new_chat(company)
    seen: list[bool] = []

    async def consume() -> None:
        async for event in chat_turn_stream(chat=chat, content="Hello", end_user=chat.end_user, source="test"):
            if isinstance(event, Token):
                seen.append(chat.pk in await sync_to_async(live_chat_ids)(company_id=company.pk))

    run(consume())
    assert seen and all(seen)
    assert chat.pk not in live_chat_ids(company_id=company.pk)
