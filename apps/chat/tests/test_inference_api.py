"""The toolbox's chats/inference/post: the default model's answer in the envelope, saved and accounted."""

from __future__ import annotations

from apps.chat.models import Chat, CompletionUsage
from apps.chat.tests.factories import make_provider
from apps.core.testing import assert_envelope_error, assert_ok

URL = "/api/v1/toolbox/tools/chats/inference/post"


def test_the_builtin_default_model_answers(tenant):
    body = assert_ok(tenant.user.client.post(URL, {"input": "What is the capital of France?"}, format="json"))
    assert 'You said: "What is the capital of France?"' in body["message"]
    chat = Chat.objects.get()
    assert (chat.company_id, chat.user_id, chat.model) == (tenant.company.pk, tenant.user.user.pk, "builtin.assistant")
    assert list(chat.messages.values_list("role", flat=True)) == ["user", "assistant"]
    usage = CompletionUsage.objects.get()
    assert (usage.source, usage.outcome, usage.tokens_counted_locally) == ("inference", "ok", True)
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


def test_a_configured_default_model_is_called(tenant, upstream, settings):
    make_provider(tenant.company, upstream.url)
    settings.GATEWAY_DEFAULT_MODEL = "acme.gpt-test"
    body = assert_ok(tenant.key_client().post(URL, {"input": "What is the capital of France?"}, format="json"))
    assert body["message"] == "Echo: What is the capital of France?"
    assert upstream.requests[-1].body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert CompletionUsage.objects.get().total_tokens == 18


def test_upstream_failures_answer_in_the_envelope(tenant, upstream, settings):
    make_provider(tenant.company, upstream.url)
    settings.GATEWAY_DEFAULT_MODEL = "acme.error500"
    assert_envelope_error(tenant.user.client.post(URL, {"input": "Hi"}, format="json"), 502, "(500)")
    assert CompletionUsage.objects.get().outcome == "error"


def test_missing_input_anonymous_and_rate_limit(anon, tenant, settings):
    assert_envelope_error(tenant.user.client.post(URL, {}, format="json"), 400, "Missing input")
    assert_envelope_error(tenant.user.client.post(URL, {"input": "   "}, format="json"), 400, "Missing input")
    assert_envelope_error(anon.post(URL, {"input": "Hi"}, format="json"), 401)
    assert not Chat.objects.exists()
    settings.GATEWAY_REQUESTS_PER_MINUTE = 1
    assert_ok(tenant.user.client.post(URL, {"input": "Hi"}, format="json"))
    response = tenant.user.client.post(URL, {"input": "Hi"}, format="json")
    assert_envelope_error(response, 429)
    assert int(response["Retry-After"]) >= 1
