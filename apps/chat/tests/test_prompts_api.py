"""Prompt templates of the chat stream dialect: /api/chat/prompts, /api/chat/prompts/{id}, /api/chat/prompts/preview."""

from __future__ import annotations

from typing import Any

import pytest

from apps.chat.models import CompletionUsage, Prompt
from apps.chat.prompts import SHIPPED, prompt_fill, prompt_templates_ensure
from apps.chat.services import prompt_create
from apps.chat.tests.factories import make_provider
from apps.core.testing import assert_detail_error

URL = "/api/chat/prompts"
SUMMARIZER = {
    "title": "Text Summarizer",
    "content": "Summarize the following text: {text}",
    "scenario": "summarization",
    "description": "Generates concise summaries",
    "metadata": {"tags": ["summary", "concise"]},
}


def create(client: Any, **overrides: Any) -> Any:
    return client.post(URL, {**SUMMARIZER, **overrides}, format="json")


def test_create_a_prompt(tenant):
    answer = create(tenant.user.client)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert {k: body[k] for k in SUMMARIZER} == SUMMARIZER
    assert (body["is_template"], body["usage_count"]) == (False, 0)
    assert isinstance(body["id"], int) and body["created_at"].endswith("Z")
    assert Prompt.objects.get(pk=body["uuid"]).user_id == tenant.user.user.pk


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"content": "x"}, "title"),
        ({"title": "x"}, "content"),
        ({"title": "", "content": "x"}, "title"),
        ({"title": "x" * 201, "content": "x"}, "title"),
        ({"title": "x", "content": "x", "metadata": "tags"}, "metadata"),
    ],
)
def test_create_refuses_bad_input(tenant, body, contains):
    assert_detail_error(tenant.user.client.post(URL, body, format="json"), 400, contains)
    assert not Prompt.objects.filter(is_template=False).exists()


def test_list_includes_shipped_templates_filters_searches_and_pages(anon, tenant, outsider):
    client = tenant.user.client
    create(client)
    create(client, title="Bug triage", content="Classify this bug: {bug}", scenario="support", description="")
    prompt_create(company=tenant.company, user=tenant.manager.user, title="Colleague's", content="x")
    create(outsider.user.client, title="Outsider's")
    body = client.get(URL).json()
    titles = [item["title"] for item in body["items"]]
    assert body["total"] == 2 + len(SHIPPED) and (body["page"], body["page_size"]) == (1, 20)
    assert "Colleague's" not in titles and "Outsider's" not in titles
    assert {t["title"] for t in SHIPPED} <= set(titles)
    own_only = client.get(URL, {"include_templates": "false"}).json()
    assert [item["title"] for item in own_only["items"]] == ["Text Summarizer", "Bug triage"]
    assert [i["title"] for i in client.get(URL, {"scenario": "support"}).json()["items"]] == ["Bug triage"]
    found = client.get(URL, {"search": "CLASSIFY"}).json()
    assert [i["title"] for i in found["items"]] == ["Bug triage"]
    by_description = client.get(URL, {"search": "concise summar", "include_templates": "false"}).json()
    assert [i["title"] for i in by_description["items"]] == ["Text Summarizer"]
    first = client.get(URL, {"page": 1, "page_size": 4}).json()
    second = client.get(URL, {"page": 2, "page_size": 4}).json()
    assert len(first["items"]) == 4 and len(second["items"]) == 2 and second["total"] == 6
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    assert client.get(URL, {"page": 3, "page_size": 4}).json()["items"] == []
    for query, field in (({"page_size": 101}, "page_size"), ({"page": 0}, "page"),
                         ({"include_templates": "maybe"}, "include_templates")):  # fmt: skip
        assert_detail_error(client.get(URL, query), 400, field)
    assert_detail_error(anon.get(URL), 401)


def test_the_gateway_prompts_list_shows_the_same_data(tenant):
    created = create(tenant.user.client).json()
    gateway = tenant.user.client.get("/api/v1/prompts").json()
    assert created["uuid"] in [p["uuid"] for p in gateway]
    assert len(gateway) == tenant.user.client.get(URL).json()["total"]


def test_templates_are_shipped_once_per_company(tenant, outsider):
    assert prompt_templates_ensure(company=tenant.company) == len(SHIPPED)
    assert prompt_templates_ensure(company=tenant.company) == 0
    assert Prompt.objects.filter(company=outsider.company).count() == 0
    tenant.user.client.get(URL)
    assert Prompt.objects.filter(company=tenant.company, is_template=True).count() == len(SHIPPED)


def test_update_own_prompt_partially(tenant):
    prompt_id = create(tenant.user.client).json()["id"]
    answer = tenant.user.client.put(f"{URL}/{prompt_id}", {"title": "Updated Title", "content": "Updated {x}"},
                                    format="json")  # fmt: skip
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["title"], body["content"], body["scenario"]) == ("Updated Title", "Updated {x}", "summarization")
    assert_detail_error(tenant.user.client.put(f"{URL}/{prompt_id}", {"title": ""}, format="json"), 400, "title")


def test_who_may_change_and_delete_what(tenant, outsider):
    client = tenant.user.client
    client.get(URL)  # ships the templates
    template = Prompt.objects.filter(company=tenant.company, is_template=True).first()
    assert_detail_error(client.put(f"{URL}/{template.number}", {"title": "Mine now"}, format="json"), 403)
    assert_detail_error(client.delete(f"{URL}/{template.number}"), 403)
    assert tenant.admin.client.put(f"{URL}/{template.number}", {"title": "Ours"}, format="json").status_code == 200
    colleague = prompt_create(company=tenant.company, user=tenant.manager.user, title="C", content="x")
    assert_detail_error(client.put(f"{URL}/{colleague.number}", {"title": "x"}, format="json"), 404)
    assert_detail_error(client.delete(f"{URL}/{colleague.number}"), 404)
    foreign = create(outsider.user.client).json()
    assert_detail_error(client.put(f"{URL}/{foreign['uuid']}", {"title": "x"}, format="json"), 404)
    assert_detail_error(client.delete(f"{URL}/{foreign['uuid']}"), 404)
    assert_detail_error(client.get(f"{URL}/{foreign['uuid']}"), 404)
    assert Prompt.objects.get(pk=foreign["uuid"]).title == "Text Summarizer"
    mine = create(client).json()
    answer = client.delete(f"{URL}/{mine['id']}")
    assert answer.status_code == 200 and answer.json() == {"message": "Prompt deleted successfully"}
    assert_detail_error(client.delete(f"{URL}/{mine['id']}"), 404)
    assert tenant.admin.client.delete(f"{URL}/{template.number}").status_code == 200


# --- preview ---------------------------------------------------------------------------------------------


def test_prompt_fill():
    assert prompt_fill("Hi {name}, {name}! {x_1}", {"name": "Ada", "x_1": 2}) == "Hi Ada, Ada! 2"
    assert prompt_fill('JSON {"a": 1} stays', {}) == 'JSON {"a": 1} stays'


def test_preview_a_stored_prompt_through_a_model(tenant, upstream, transactional_db):
    make_provider(tenant.company, upstream.url)
    prompt_id = create(tenant.user.client).json()["id"]
    body = {"prompt_id": prompt_id, "variables": {"text": "Sample text"}, "model": "acme.gpt-test"}
    answer = tenant.user.client.post(f"{URL}/preview", body, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "preview": "Echo: Summarize the following text: Sample text",
        "tokens_used": 18,
        "model_used": "acme.gpt-test",
    }
    assert upstream.requests[-1].body["messages"] == [
        {"role": "user", "content": "Summarize the following text: Sample text"}
    ]
    assert Prompt.objects.get(number=prompt_id, company=tenant.company).usage_count == 1
    usage = CompletionUsage.objects.get(source="prompt-preview")
    assert usage.chat_id is None and usage.total_tokens == 18


def test_preview_given_content_with_the_default_model(tenant):
    body = {"content": "Summarize this text: {text}", "variables": {"text": "cats sleep a lot"}}
    answer = tenant.user.client.post(f"{URL}/preview", body, format="json")
    assert answer.status_code == 200, answer.content
    result = answer.json()
    assert result["model_used"] == "builtin.assistant" and result["preview"] and result["tokens_used"] > 0


def test_preview_errors(tenant, outsider):
    client = tenant.user.client
    missing = client.post(f"{URL}/preview", {"content": "Translate {text} into {language}", "variables": {"text": "x"}},
                          format="json")  # fmt: skip
    assert_detail_error(missing, 422, "language")
    assert missing.json()["missing"] == ["language"]
    assert_detail_error(client.post(f"{URL}/preview", {"variables": {}}, format="json"), 400, "prompt_id or content")
    both = {"prompt_id": 1, "content": "x", "variables": {}}
    assert_detail_error(client.post(f"{URL}/preview", both, format="json"), 400)
    foreign = create(outsider.user.client).json()
    assert_detail_error(client.post(f"{URL}/preview", {"prompt_id": foreign["uuid"]}, format="json"), 404)
    bad_model = {"content": "x", "model": "nope.model"}
    assert_detail_error(client.post(f"{URL}/preview", bad_model, format="json"), 400, "model")
    assert not CompletionUsage.objects.exists()
