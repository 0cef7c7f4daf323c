"""The operators that call models: `llm` (provider layer, through the chat completion service) and `classify`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.automations.models import Automation, AutomationRun
from apps.automations.tests.conftest import SAVE, chain, entries, make_automation, node, start_test_run
from apps.billing.models import Plan
from apps.billing.services.limits import usage_record, usage_used
from apps.chat.models import Chat, CompletionUsage, Message
from apps.chat.tests.factories import make_provider
from apps.chat.tests.upstream import FakeUpstream, running_upstream
from apps.core.limits import INFERENCE_REQUESTS
from apps.core.testing import assert_envelope_error
from apps.models_registry.models import Algorithm
from apps.models_registry.services.training import model_train
from apps.models_registry.tests.factories import AIModelFactory

pytestmark = pytest.mark.django_db

COMPLETED, FAILED = AutomationRun.Status.COMPLETED, AutomationRun.Status.FAILED
DATA = json.loads((Path(__file__).resolve().parents[3] / "tests" / "data" / "nlu_paraphrase.json").read_text())
CORPUS = [{"intent": intent, "utterances": utterances} for intent, utterances in DATA["train"].items()]


@pytest.fixture(scope="module")
def _upstream_server() -> Iterator[FakeUpstream]:
    with running_upstream() as state:
        yield state


@pytest.fixture
def upstream(_upstream_server, settings):
    """The fake OpenAI-compatible upstream on loopback, reset for each test."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.GATEWAY_RETRY_BACKOFF_SECONDS = 0.01
    _upstream_server.reset()
    return _upstream_server


@pytest.fixture
def provider(tenant, upstream):
    return make_provider(tenant.company, upstream.url)


@pytest.fixture
def run_flow(tenant, django_capture_on_commit_callbacks):
    def run(flow, input=None):
        automation = make_automation(tenant.company, flow)
        return start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks, input=input)

    return run


def save_error(client, flow):
    body = assert_envelope_error(client.post(SAVE, {"name": "Flow", "flow": flow}, format="json"), 400)
    assert not Automation.objects.exists()
    return body["error"]


# --- llm -----------------------------------------------------------------------------------------


def test_llm_with_the_builtin_provider(run_flow, tenant):
    flow = chain(node("ask", "llm", model="builtin.assistant", prompt="Summarise {{ input.text }}"))
    run = run_flow(flow, input={"text": "the order"})
    assert run.status == COMPLETED, run.explanation
    entry = entries(run)["ask"]
    assert entry["status"] == "Success"
    assert entry["output"]["text"].startswith('You said: "Summarise the order".')
    assert entry["output"]["model"] == "builtin.assistant"
    assert entry["output"]["usage"]["total_tokens"] > 0
    assert entry["input"]["messages"] == [{"role": "user", "content": "Summarise the order"}]
    assert entry["result"].startswith("You said")
    usage = CompletionUsage.objects.get()
    assert (usage.company_id, usage.source, usage.model, usage.outcome) == (
        tenant.company.pk,
        "automation",
        "builtin.assistant",
        "ok",
    )
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 1


def test_llm_through_a_provider_with_settings_and_usage(run_flow, upstream, provider, tenant):
    flow = chain(
        node(
            "ask",
            "llm",
            model="acme.gpt-test",
            system="You help {{ input.team }}.",
            prompt="Classify: {{ input.text }}",
            temperature=0.2,
            max_tokens=50,
        ),
        node("use", "transform", value="{{ results.ask.text }}!"),
    )
    run = run_flow(flow, input={"team": "sales", "text": "big order"})
    assert run.status == COMPLETED, run.explanation
    sent = upstream.requests[-1].body
    assert sent["model"] == "gpt-test"
    assert sent["messages"] == [
        {"role": "system", "content": "You help sales."},
        {"role": "user", "content": "Classify: big order"},
    ]
    assert (sent["temperature"], sent["max_tokens"]) == (0.2, 50)
    assert upstream.requests[-1].headers["Authorization"] == "Bearer sk-company-key-0001"
    ran = entries(run)
    assert ran["ask"]["output"]["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert ran["use"]["output"] == "Echo: Classify: big order!"
    chat = Chat.objects.get()
    assert chat.company_id == tenant.company.pk and chat.model == "acme.gpt-test"
    assert list(Message.objects.filter(chat=chat).values_list("role", flat=True).order_by("created_at")) == [
        "system",
        "user",
        "assistant",
    ]
    assert CompletionUsage.objects.get().total_tokens == 18


def test_llm_failure_of_the_upstream_fails_the_run(run_flow, upstream, provider):
    run = run_flow(chain(node("ask", "llm", model="acme.error500", prompt="hi")))
    assert run.status == FAILED
    entry = entries(run)["ask"]
    assert entry["status"] == "Failed"
    assert entry["explanation"].startswith("acme.error500: ")
    assert entry["input"]["messages"] == [{"role": "user", "content": "hi"}]
    assert run.explanation == f"Operator 'ask' failed: {entry['explanation']}"
    assert CompletionUsage.objects.get().outcome == "error"


def test_llm_is_stopped_at_its_time_limit(run_flow, upstream, provider):
    upstream.delay = 5
    run = run_flow(chain(node("ask", "llm", model="acme.slow", prompt="hi", timeout=0.5)))
    assert run.status == FAILED
    entry = entries(run)["ask"]
    assert "did not answer within 0.5 s" in entry["explanation"], entry["explanation"]
    assert entry["elapsed"] < 3
    assert CompletionUsage.objects.get().outcome == "timeout"


def test_llm_is_refused_past_the_plan_allowance_and_not_counted(run_flow, tenant):
    Plan.objects.filter(code=tenant.company.plan or "NONE").update(max_inference_requests_per_month=3)
    usage_record(company=tenant.company, resource=INFERENCE_REQUESTS, amount=3)
    run = run_flow(chain(node("ask", "llm", model="builtin.assistant", prompt="hi")))
    assert run.status == FAILED
    assert "inference requests per month" in entries(run)["ask"]["explanation"]
    assert usage_used(company=tenant.company, resource=INFERENCE_REQUESTS) == 3
    assert not CompletionUsage.objects.exists()


def test_a_provider_removed_after_saving_fails_the_run_clearly(tenant, provider, django_capture_on_commit_callbacks):
    automation = make_automation(tenant.company, chain(node("ask", "llm", model="acme.gpt-test", prompt="hi")))
    provider.delete()
    run = start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks)
    assert run.status == FAILED
    assert entries(run)["ask"]["explanation"] == "acme.gpt-test: Model 'acme.gpt-test' not found."


@pytest.mark.parametrize(
    ("node_settings", "message"),
    [
        ({"prompt": "hi"}, "node 'ask' (llm) is missing the setting 'model'"),
        ({"model": "builtin.assistant"}, "node 'ask' (llm) is missing the setting 'prompt'"),
        ({"model": "assistant", "prompt": "hi"}, "node 'ask' (llm): the setting 'model' must be a model id"),
        ({"model": "builtin.assistant", "prompt": "  "}, "the setting 'prompt' must be a non-empty template"),
        ({"model": "builtin.assistant", "prompt": "{{ x"}, "node 'ask' (llm): a template does not parse"),
        ({"model": "builtin.assistant", "prompt": "hi", "temperature": 3}, "'temperature' must be a number from 0"),
        ({"model": "builtin.assistant", "prompt": "hi", "max_tokens": 0}, "'max_tokens' must be a whole number"),
        ({"model": "builtin.assistant", "prompt": "hi", "max_tokens": 1.5}, "'max_tokens' must be a whole number"),
        ({"model": "builtin.nothing", "prompt": "hi"}, "node 'ask' (llm): the model 'builtin.nothing' cannot be used"),
        ({"model": "acme.gpt-test", "prompt": "hi"}, "the model 'acme.gpt-test' cannot be used: Model 'acme.gpt-test'"),
    ],
)
def test_llm_settings_are_checked_on_save(tenant, node_settings, message):
    flow = {"nodes": [{"id": "ask", "type": "llm", "settings": node_settings}]}
    error = save_error(tenant.admin.client, flow)
    assert message in error, error


def test_llm_cannot_use_another_company_provider(tenant, outsider, upstream):
    make_provider(outsider.company, upstream.url, name="globex")
    flow = chain(node("ask", "llm", model="globex.gpt-test", prompt="hi"))
    assert "the model 'globex.gpt-test' cannot be used" in save_error(tenant.admin.client, flow)


# --- classify ------------------------------------------------------------------------------------


@pytest.fixture
def trained(tenant, django_capture_on_commit_callbacks):
    model = AIModelFactory(company=tenant.company, name="Shop", input=CORPUS)
    with django_capture_on_commit_callbacks(execute=True):
        model_train(company=tenant.company, actor=None, modelid=str(model.pk))
    model.refresh_from_db()
    assert model.state == "trained"
    return model


def test_classify_with_a_trained_model(run_flow, trained):
    flow = chain(
        node("intent", "classify", modelid=str(trained.pk), text="{{ input.message }}"),
        node("route", "condition", expression="results.intent.intent == 'weather'"),
    )
    run = run_flow(flow, input={"message": "is a storm coming?"})
    assert run.status == COMPLETED, run.explanation
    ran = entries(run)
    output = ran["intent"]["output"]
    assert output["intent"] == "weather"
    assert 0.5 <= output["score"] <= 1
    assert output["classifications"][0]["intent"] == "weather"
    assert "entities" in output and output["utterance"] == "is a storm coming?"
    assert ran["intent"]["result"] == f"weather ({output['score']})"
    assert ran["intent"]["input"] == {"modelid": str(trained.pk), "text": "is a storm coming?"}
    assert ran["route"]["branch"] == "true"


def test_classify_fails_on_an_untrained_model_and_on_empty_text(run_flow, tenant, trained):
    draft = AIModelFactory(company=tenant.company)
    run = run_flow(chain(node("c", "classify", modelid=str(draft.pk), text="hello")))
    assert run.status == FAILED
    assert "has not been trained yet" in entries(run)["c"]["explanation"]
    run = run_flow(chain(node("c", "classify", modelid=str(trained.pk), text="{{ input.blank }}")), {"blank": " "})
    assert run.status == FAILED
    assert entries(run)["c"]["explanation"].startswith("Missing input.")


def test_classify_fails_when_its_model_is_gone(tenant, trained, django_capture_on_commit_callbacks):
    automation = make_automation(tenant.company, chain(node("c", "classify", modelid=str(trained.pk), text="hello")))
    modelid = str(trained.pk)
    trained.delete()
    run = start_test_run(tenant.admin.client, automation, django_capture_on_commit_callbacks)
    assert run.status == FAILED
    assert entries(run)["c"]["explanation"] == f"Model not found. ({modelid})"


@pytest.mark.parametrize("kind", ["garbage", "other company", "unknown", "llm model"])
def test_classify_settings_are_checked_on_save(tenant, outsider, kind):
    modelid = {
        "garbage": "model123",
        "other company": str(AIModelFactory(company=outsider.company).pk),
        "unknown": str(uuid.uuid4()),
        "llm model": str(AIModelFactory(company=tenant.company, name="Docs", algorithm=Algorithm.LLM).pk),
    }[kind]
    error = save_error(tenant.admin.client, chain(node("c", "classify", modelid=modelid, text="hi")))
    expected = {
        "garbage": "node 'c' (classify): the setting 'modelid' must be the id of a natural-bayes model",
        "other company": "node 'c' (classify): the setting 'modelid': Model not found.",
        "unknown": "node 'c' (classify): the setting 'modelid': Model not found.",
        "llm model": "node 'c' (classify): the model 'Docs' is a llm model, not a natural-bayes one",
    }[kind]
    assert expected in error, error
