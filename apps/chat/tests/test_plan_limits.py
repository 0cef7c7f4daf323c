"""Inference requests and tokens per month come from the company's plan, on the toolbox and the gateway."""

from __future__ import annotations

from apps.billing.services.limits import usage_record, usage_used
from apps.chat.models import CompletionUsage
from apps.chat.tests.conftest import bearer, completion_body
from apps.core.limits import INFERENCE_REQUESTS, TOKENS
from apps.core.testing import assert_envelope_error, assert_ok

INFERENCE = "/api/v1/toolbox/tools/chats/inference/post"
COMPLETIONS = "/api/chat/completions"


def test_each_inference_counts_its_request_and_tokens(tenant):
    assert_ok(tenant.user.client.post(INFERENCE, {"input": "Hello"}, format="json"))
    usage = CompletionUsage.objects.get()
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 1
    assert usage_used(company=tenant.company, resource=TOKENS) == usage.total_tokens > 0


def test_a_spent_monthly_allowance_refuses_inference_with_429(tenant, outsider):
    usage_record(company=tenant.company, resource=INFERENCE_REQUESTS, amount=1_000)  # the NONE plan's month
    response = tenant.user.client.post(INFERENCE, {"input": "Hello"}, format="json")
    assert_envelope_error(response, 429, "per month")
    assert int(response["Retry-After"]) > 0
    assert not CompletionUsage.objects.exists()
    assert_ok(outsider.user.client.post(INFERENCE, {"input": "Hello"}, format="json"))  # another company's month


def test_spent_tokens_refuse_completions_on_the_gateway(live, tenant):
    usage_record(company=tenant.company, resource=TOKENS, amount=200_000)
    answer = live.post(COMPLETIONS, completion_body("builtin.assistant", "Hello chat."), bearer(tenant.user))
    assert answer.status == 429
    assert "per month" in answer.json()["detail"]
    assert not CompletionUsage.objects.exists()
