"""The gateway's other endpoints: models, config, CSRF for cookie sessions, permissions, chats."""

from __future__ import annotations

import uuid

from apps.accounts.roles import MODEL_MANAGER
from apps.chat.models import Chat
from apps.chat.services import chat_new
from apps.chat.tests.conftest import bearer, completion_body
from apps.chat.tests.factories import make_provider
from apps.core.testing import assert_detail_error
from apps.models_registry.providers.services import user_llm_config_save


def ids(answer):
    return [m["id"] for m in answer.json()["data"]]


# --- GET /api/models --------------------------------------------------------------------------------------------


def test_models_lists_builtin_and_each_providers_upstream_models(live, upstream, tenant, outsider):
    make_provider(tenant.company, upstream.url)
    make_provider(tenant.company, "http://127.0.0.1:9", name="dead")
    make_provider(outsider.company, upstream.url, name="globex")
    answer = live.get("/api/models", bearer(tenant.user))
    assert answer.status == 200
    body = answer.json()
    assert body["object"] == "list"
    assert ids(answer) == ["builtin.assistant", "acme.echo", "acme.gpt-test"]  # the dead provider is skipped
    assert body["data"][1] == {"id": "acme.echo", "object": "model", "created": 0, "owned_by": "acme", "name": "echo"}
    assert "x-gateway-overhead-ms" in answer.headers
    assert upstream.requests[-1].headers["Authorization"] == "Bearer sk-company-key-0001"


def test_models_are_cached_briefly_and_asked_with_the_users_own_key(live, upstream, tenant):
    provider = make_provider(tenant.company, upstream.url)
    live.get("/api/models", bearer(tenant.user))
    upstream.models = ["changed"]
    assert "acme.gpt-test" in ids(live.get("/api/models", bearer(tenant.user)))
    assert len(upstream.requests) == 1
    user_llm_config_save(
        company=tenant.company, actor=tenant.user.user, user_id=tenant.user.user.pk, provider_id=provider.pk,
        api_key="sk-own-key-5555",
    )  # fmt: skip
    assert "acme.changed" in ids(live.get("/api/models", bearer(tenant.user)))
    assert upstream.requests[-1].headers["Authorization"] == "Bearer sk-own-key-5555"


def test_models_hides_providers_the_caller_may_not_use(live, upstream, tenant):
    make_provider(tenant.company, upstream.url, allowed_roles=[MODEL_MANAGER])
    assert ids(live.get("/api/models", bearer(tenant.user))) == ["builtin.assistant"]
    assert "acme.echo" in ids(live.get("/api/models", bearer(tenant.member([MODEL_MANAGER]))))


def test_models_needs_credentials(live):
    answer = live.get("/api/models")
    assert answer.status == 401 and "detail" in answer.json()
    assert live.post("/api/models", {}, {}).status == 405


# --- config, permissions ----------------------------------------------------------------------------------------


def test_config_and_permissions(anon, tenant):
    assert_detail_error(anon.get("/api/config"), 401)
    config = tenant.user.client.get("/api/config").json()
    assert config["default_models"] == "builtin.assistant"
    assert config["company"]["id"] == str(tenant.company.pk)
    assert config["limits"]["max_request_bytes"] == 10 * 1024 * 1024
    mine = tenant.user.client.get("/api/v1/users/permissions").json()
    assert mine["roles"] == ["User"]
    assert mine["permissions"]["providers"]["manage"] is False
    admin = tenant.key_client().get("/api/v1/users/permissions").json()
    assert admin["permissions"]["providers"]["manage"] is True
    assert_detail_error(anon.get("/api/v1/users/permissions"), 401)


# --- CSRF for cookie sessions ---------------------------------------------------------------------------------


def test_cookie_sessions_need_the_csrf_token_and_bearer_requests_do_not(live, tenant):
    cookie = {"Cookie": f"token={tenant.user.token}"}
    answer = live.get("/api/v1/configs/csrf-token", cookie)
    assert answer.status == 200
    token = answer.json()["csrf_token"]
    assert f"csrf_token={token}" in answer.headers["set-cookie"]
    assert live.get("/api/v1/configs/csrf-token", bearer(tenant.user)).json()["csrf_token"] == token
    body = completion_body("builtin.assistant")
    assert live.post("/api/chat/completions", body, cookie).status == 403
    assert live.post("/api/chat/completions", body, {**cookie, "X-CSRF-Token": "wrong"}).status == 403
    assert not Chat.objects.exists()
    assert live.post("/api/chat/completions", body, {**cookie, "X-CSRF-Token": token}).status == 200
    body = completion_body("builtin.assistant")
    assert live.post("/api/chat/completions", body, bearer(tenant.user)).status == 200
    assert live.get("/api/models", cookie).status == 200  # reads need no CSRF token
    new_chat = live.post("/api/v1/chats/new", {"title": "x"}, cookie)
    assert new_chat.status == 403


def test_key_pairs_get_no_csrf_token(tenant):
    assert_detail_error(tenant.key_client().get("/api/v1/configs/csrf-token"), 400, "needs no CSRF")


# --- chats ------------------------------------------------------------------------------------------------------


def test_chats_lists_only_the_callers_chats_paged(anon, tenant, outsider):
    for index in range(3):
        chat_new(company=tenant.company, user=tenant.user.user, title=f"mine {index}")
    chat_new(company=tenant.company, user=tenant.manager.user, title="colleague's")
    chat_new(company=outsider.company, user=outsider.user.user, title="outsider's")
    titles = [c["title"] for c in tenant.user.client.get("/api/v1/chats").json()]
    assert titles == ["mine 2", "mine 1", "mine 0"]
    assert tenant.user.client.get("/api/v1/chats?page=2").json() == []
    assert len(tenant.key_client().get("/api/v1/chats").json()) == 4  # the key pair sees the company's chats
    assert_detail_error(tenant.user.client.get("/api/v1/chats?page=0"), 400, "page")
    assert_detail_error(anon.get("/api/v1/chats"), 401)


def test_new_chat(anon, tenant):
    payload = {"chat": {"title": "Planning", "models": ["builtin.assistant"],
                        "messages": [{"role": "user", "content": "Hello"}]}}  # fmt: skip
    response = tenant.user.client.post("/api/v1/chats/new", payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    chat = Chat.objects.get(pk=body["id"])
    assert (chat.title, chat.model, chat.user_id, chat.number) == (
        "Planning",
        "builtin.assistant",
        tenant.user.user.pk,
        1,
    )
    assert list(chat.messages.values_list("content", flat=True)) == ["Hello"]
    second = tenant.user.client.post("/api/v1/chats/new", {"title": "Other"}, format="json").json()
    assert second["number"] == 2
    assert_detail_error(
        tenant.user.client.post("/api/v1/chats/new", {"chat": {"messages": [{"role": "x"}]}}, format="json"), 400
    )
    assert_detail_error(anon.post("/api/v1/chats/new", payload, format="json"), 401)
    assert uuid.UUID(body["id"])


# --- prompts -----------------------------------------------------------------------------------------------------


def test_prompts_lists_the_companys_templates_and_the_callers_own(anon, tenant, outsider):
    from apps.chat.services import prompt_create

    prompt_create(company=tenant.company, user=tenant.admin.user, title="Summarizer", content="Summarize: {text}",
                  scenario="summarization", is_template=True)  # fmt: skip
    prompt_create(company=tenant.company, user=tenant.user.user, title="Mine", content="Mine")
    prompt_create(company=tenant.company, user=tenant.manager.user, title="Colleague's", content="x")
    prompt_create(company=outsider.company, user=outsider.user.user, title="Outsider's", content="x", is_template=True)
    from apps.chat.prompts import SHIPPED

    shipped = len(SHIPPED)  # the shipped system templates come along, numbered after the company's prompts
    body = tenant.user.client.get("/api/v1/prompts").json()
    assert [(p["id"], p["title"]) for p in body[:2]] == [(1, "Summarizer"), (2, "Mine")]
    assert [p["title"] for p in body[2:]] == [t["title"] for t in SHIPPED]
    assert all(p["is_template"] and p["id"] > 3 for p in body[2:])
    assert body[0]["scenario"] == "summarization" and body[0]["is_template"] is True
    assert len(tenant.key_client().get("/api/v1/prompts").json()) == 3 + shipped
    assert [p["id"] for p in outsider.user.client.get("/api/v1/prompts").json()][:1] == [1]
    assert_detail_error(anon.get("/api/v1/prompts"), 401)
