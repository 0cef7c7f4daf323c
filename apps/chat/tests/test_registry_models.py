"""The registry's llm models as chat models: listed by /api/models as `model.<uuid>`, answered through the
upstream their `model_name_or_path` names with their passages and vocabulary as context, and the company's
default model for chats/inference/post."""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.roles import MODEL_MANAGER
from apps.chat.models import Chat, CompletionUsage
from apps.chat.tests.conftest import bearer, completion_body
from apps.chat.tests.factories import key_only, make_provider
from apps.core.exceptions import InvalidInput
from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import AIModel, DataSource, DataSourceKind, VocabularyEntry
from apps.models_registry.providers.services import provider_create
from apps.models_registry.selectors import default_chat_model
from apps.models_registry.services.training import model_train_run

DOCUMENTS = {
    "hours.txt": "Our shop opens at nine. Deliveries arrive on Tuesdays by van.",
    "refunds.txt": "Refunds are paid within five days of the return.",
}
INFERENCE = "/api/v1/toolbox/tools/chats/inference/post"
TEST = "/api/v1/toolbox/tools/model/test"


def make_chat_model(
    company: Any, *, name: str = "Shop docs", uses: str = "", deployed: bool = True, default: bool = False
) -> AIModel:
    """A trained llm model of `company` over DOCUMENTS with one vocabulary entry, through the real training."""
    model = AIModel.objects.create(
        company=company, name=name, algorithm="llm", model_name_or_path=uses, isdefault_llm=default
    )
    for filename, text in DOCUMENTS.items():
        DataSource.objects.create(
            company=company, model=model, kind=DataSourceKind.FILE, originalname=filename, text=text, size=len(text)
        )
    VocabularyEntry.objects.create(company=company, model=model, term="SKU", definition="Stock keeping unit.")
    model_train_run(model_id=str(model.pk))
    model.refresh_from_db()
    assert model.version == 1, model.error
    if deployed:
        AIModel.objects.filter(pk=model.pk).update(isdeployed=True)
        model.refresh_from_db()
    return model


def model_ids(answer: Any) -> list[str]:
    return [entry["id"] for entry in answer.json()["data"]]


def system_text(recorded: Any) -> str:
    messages = recorded.body["messages"]
    assert messages[0]["role"] == "system"
    return messages[0]["content"]


# --- GET /api/models -------------------------------------------------------------------------------------------


def test_models_lists_the_companys_deployed_llm_models(live, tenant, outsider):
    deployed = make_chat_model(tenant.company)
    make_chat_model(tenant.company, name="Draft", deployed=False)
    make_chat_model(outsider.company, name="Globex docs")
    answer = live.get("/api/models", bearer(tenant.user))
    assert answer.status == 200
    assert model_ids(answer) == ["builtin.assistant", f"model.{deployed.pk}"]
    assert answer.json()["data"][1] == {
        "id": f"model.{deployed.pk}", "object": "model", "created": 0, "owned_by": "model", "name": "Shop docs",
    }  # fmt: skip


def test_no_provider_may_be_named_like_the_registry_prefix(tenant):
    with pytest.raises(InvalidInput, match="llm models"):
        provider_create(company=tenant.company, actor=None, name="model", api_endpoint="http://127.0.0.1:9")


# --- completions with a registry model ---------------------------------------------------------------------------


def test_builtin_registry_model_answers_from_its_passages(live, tenant):
    model = make_chat_model(tenant.company, uses="builtin.extractive")
    body = completion_body(f"model.{model.pk}", "When do deliveries arrive?")
    answer = live.post("/api/chat/completions", body, bearer(tenant.user))
    assert answer.status == 200, answer.body
    content = answer.json()["choices"][0]["message"]["content"]
    assert "Tuesdays" in content and "Refunds" not in content
    chat = Chat.objects.get(pk=body["chat_id"])
    assert chat.model == f"model.{model.pk}"
    streamed = live.post(
        "/api/chat/completions",
        completion_body(f"model.{model.pk}", "How fast are refunds paid?", stream=True),
        bearer(tenant.user),
    )
    deltas = [e["choices"][0]["delta"].get("content", "") for e in streamed.events()[:-1] if e["choices"]]
    assert "five days" in "".join(deltas) and streamed.events()[-1] == "[DONE]"


def test_provider_registry_model_sends_passages_and_vocabulary_upstream(live, upstream, tenant):
    make_provider(tenant.company, upstream.url)
    model = make_chat_model(tenant.company, uses="acme.echo")
    answer = live.post(
        "/api/chat/completions",
        completion_body(f"model.{model.pk}", "When do deliveries arrive, and what is a SKU?"),
        bearer(tenant.user),
    )
    assert answer.status == 200, answer.body
    assert answer.json()["choices"][0]["message"]["content"] == "Echo: When do deliveries arrive, and what is a SKU?"
    sent = upstream.requests[-1]
    assert sent.body["model"] == "echo"
    context = system_text(sent)
    assert "(hours.txt) Our shop opens at nine. Deliveries arrive on Tuesdays by van." in context
    assert "- SKU: Stock keeping unit." in context
    assert sent.body["messages"][1:] == [
        {"role": "user", "content": "When do deliveries arrive, and what is a SKU?"}
    ]  # the conversation itself follows unchanged
    assert upstream.requests[-1].headers["Authorization"] == "Bearer sk-company-key-0001"


def test_registry_model_refusals(live, upstream, tenant, outsider):
    foreign = make_chat_model(outsider.company, name="Globex docs")
    draft = make_chat_model(tenant.company, name="Draft", deployed=False)
    missing = make_chat_model(tenant.company, name="Nowhere", uses="gone.gpt")
    make_provider(tenant.company, upstream.url, allowed_roles=[MODEL_MANAGER])
    limited = make_chat_model(tenant.company, name="Managers only", uses="acme.echo")
    for model_id, status, words in (
        (f"model.{foreign.pk}", 404, "not found"),
        (f"model.{draft.pk}", 404, "not found"),
        ("model.not-a-uuid", 404, "not found"),
        (f"model.{missing.pk}", 404, "gone.gpt"),
        (f"model.{limited.pk}", 403, "permission"),
    ):
        answer = live.post("/api/chat/completions", completion_body(model_id), bearer(tenant.user))
        assert answer.status == status, (model_id, answer.body)
        assert words in answer.json()["detail"]
    allowed = live.post(
        "/api/chat/completions", completion_body(f"model.{limited.pk}"), bearer(tenant.member([MODEL_MANAGER]))
    )
    assert allowed.status == 200
    assert not Chat.objects.filter(company=tenant.company, model=f"model.{foreign.pk}").exists()


# --- model/test of an llm model answers through the same path ---------------------------------------------------


def test_model_test_answers_through_the_provider_and_names_its_sources(live, upstream, tenant):
    make_provider(tenant.company, upstream.url)
    model = make_chat_model(tenant.company, uses="acme.echo", deployed=False)
    client = tenant.key_client()
    output = assert_ok(client.post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"}))["output"]
    assert output["response"] == "Echo: When do deliveries arrive?"
    assert output["answerer"] == "acme.echo"
    assert output["sources"][0]["name"] == "hours.txt"
    assert "Deliveries arrive on Tuesdays" in system_text(upstream.requests[-1])
    upstream.reset()
    AIModel.objects.filter(pk=model.pk).update(model_name_or_path="acme.error500")
    failed = client.post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"})
    assert_envelope_error(failed, 502)


def test_model_test_with_an_unknown_provider_is_a_clear_error(tenant):
    model = make_chat_model(tenant.company, uses="gone.gpt")
    response = tenant.key_client().post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"})
    assert_envelope_error(response, 404, "gone.gpt")


# --- the company's default model ---------------------------------------------------------------------------------


def test_default_chat_model_is_the_deployed_default_llm_else_the_setting(tenant, outsider, settings):
    settings.GATEWAY_DEFAULT_MODEL = "builtin.assistant"
    assert default_chat_model(company=tenant.company) == "builtin.assistant"
    undeployed = make_chat_model(tenant.company, name="Not yet", deployed=False, default=True)
    assert default_chat_model(company=tenant.company) == "builtin.assistant"
    AIModel.objects.filter(pk=undeployed.pk).update(isdefault_llm=False)
    chosen = make_chat_model(tenant.company, default=True)
    assert default_chat_model(company=tenant.company) == f"model.{chosen.pk}"
    assert default_chat_model(company=outsider.company) == "builtin.assistant"
    assert tenant.user.client.get("/api/config").json()["default_models"] == f"model.{chosen.pk}"


def test_inference_uses_the_companys_default_model(anon, tenant, outsider):
    chosen = make_chat_model(tenant.company, default=True)
    body = assert_ok(tenant.key_client().post(INFERENCE, {"input": "When do deliveries arrive?"}, format="json"))
    assert "Tuesdays" in body["message"]
    chat = Chat.objects.get(company=tenant.company)
    assert chat.model == f"model.{chosen.pk}"
    other = assert_ok(outsider.key_client().post(INFERENCE, {"input": "When do deliveries arrive?"}, format="json"))
    assert "Tuesdays" not in other["message"]  # another company's default is its own (the built-in model)
    assert_envelope_error(anon.post(INFERENCE, {"input": "hi"}, format="json"), 401)


def test_gateway_answers_unknown_registry_ids_in_the_detail_style(live, tenant):
    answer = live.post("/api/chat/completions", completion_body("model."), bearer(tenant.user))
    assert answer.status == 404 and "detail" in answer.json()


def test_a_tenant_chat_without_a_model_gets_the_companys_default_model(tenant, outsider):
    chosen = make_chat_model(tenant.company, default=True)
    make_chat_model(outsider.company, name="Theirs", default=True)
    answer = key_only(tenant).post("/api/v1/chats/", {"user_id": "end-1"}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["model"] == f"model.{chosen.pk}"


# --- model/test through a provider is limited and counted like every completion ------------------------------------


def test_model_test_through_a_provider_is_counted_on_the_plan(upstream, tenant):
    from apps.billing.services.limits import usage_used
    from apps.core.limits import INFERENCE_REQUESTS, TOKENS

    make_provider(tenant.company, upstream.url)
    model = make_chat_model(tenant.company, uses="acme.echo", deployed=False)
    client = tenant.key_client()
    assert_ok(client.post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"}))
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 1
    assert usage_used(company=tenant.company, resource=TOKENS) == 18  # the upstream's usage
    record = CompletionUsage.objects.get(company=tenant.company)
    assert (record.model, record.provider, record.source, record.chat_id) == (
        f"model.{model.pk}", "acme", "model-test", None,
    )  # fmt: skip
    assert (record.total_tokens, record.tokens_counted_locally, record.outcome) == (18, False, "ok")
    assert not Chat.objects.filter(company=tenant.company).exists()  # a test is no chat
    AIModel.objects.filter(pk=model.pk).update(model_name_or_path="acme.nousage")
    assert_ok(client.post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"}))
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 2
    assert usage_used(company=tenant.company, resource=TOKENS) > 18  # counted here when the upstream gives none
    assert CompletionUsage.objects.filter(company=tenant.company, tokens_counted_locally=True).count() == 1
    AIModel.objects.filter(pk=model.pk).update(model_name_or_path="acme.error500")
    assert_envelope_error(client.post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"}), 502)
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 3  # a failed request counts too
    failed = CompletionUsage.objects.get(company=tenant.company, outcome="error")
    assert failed.total_tokens == 0 and failed.error


def test_model_test_through_a_provider_is_refused_past_the_monthly_tokens(upstream, tenant):
    from apps.billing.services.limits import company_plan, limit_of, usage_record, usage_used
    from apps.core.limits import TOKENS

    make_provider(tenant.company, upstream.url)
    model = make_chat_model(tenant.company, uses="acme.echo", deployed=False)
    limit = limit_of(plan=company_plan(company=tenant.company), resource=TOKENS)
    assert limit is not None
    usage_record(company=tenant.company, resource=TOKENS, amount=limit)
    seen = len(upstream.requests)
    response = tenant.key_client().post(TEST, {"modelid": str(model.pk), "input": "When do deliveries arrive?"})
    assert_envelope_error(response, 429, "tokens per month")
    assert int(response["Retry-After"]) > 0
    assert len(upstream.requests) == seen  # the provider was not asked
    assert usage_used(company=tenant.company, resource=TOKENS) == limit


def test_model_test_through_a_provider_shares_the_companys_request_rate(upstream, tenant, settings):
    settings.GATEWAY_REQUESTS_PER_MINUTE = 1
    make_provider(tenant.company, upstream.url)
    model = make_chat_model(tenant.company, uses="acme.echo", deployed=False)
    client = tenant.key_client()
    body = {"modelid": str(model.pk), "input": "When do deliveries arrive?"}
    first = client.post(TEST, body)
    second = client.post(TEST, body)
    statuses = sorted([first.status_code, second.status_code])
    if statuses == [200, 200]:  # the two requests fell into two clock minutes: a third one is in the second's
        statuses = sorted([second.status_code, client.post(TEST, body).status_code])
    assert statuses == [200, 429]
