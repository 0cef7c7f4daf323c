"""Pieces without HTTP: token estimates, variables, the built-in model, upstream error texts."""

from __future__ import annotations

from apps.accounts.models import CompanyPrincipal
from apps.chat.completions import substitute_variables
from apps.models_registry.providers.engines import (
    AzureOpenAIEngine,
    OpenAICompatibleEngine,
    UpstreamTarget,
    _upstream_message,
    builtin_answer,
)
from apps.models_registry.providers.tokens import count_prompt_tokens, count_tokens


def test_token_estimates():
    assert count_tokens("") == 0
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("internationalization") == 3  # 20 letters: a long word counts more than one
    assert count_prompt_tokens([{"role": "user", "content": "Hello"}]) == 3 + 1 + 3
    assert count_prompt_tokens([{"role": "user", "content": [{"type": "text", "text": "a b"}]}]) == 3 + 2 + 3


def test_variables_without_a_person_keep_unknown_names(tenant):
    principal = CompanyPrincipal(tenant.company, None)
    messages = [{"role": "user", "content": "{{USER_NAME}} on {{CURRENT_DATE}} in {{CITY}}"}]
    out = substitute_variables(messages, {"CITY": "Lisbon"}, principal)[0]["content"]
    assert out.startswith("{{USER_NAME}} on 20")
    assert out.endswith(" in Lisbon")


def test_builtin_answers_from_the_conversation():
    assert builtin_answer([]).startswith("Hello! I am the built-in assistant")
    assert builtin_answer([{"role": "user", "content": "hi!"}]) == "Hello! How can I help you?"
    answer = builtin_answer(
        [{"role": "user", "content": "My name is Ana"}, {"role": "assistant", "content": "Hi"},
         {"role": "user", "content": "What is my name?"}],
        context=["Ana works in Lisbon."],
    )  # fmt: skip
    assert 'You said: "What is my name?"' in answer
    assert "Earlier you mentioned: My name is Ana" in answer
    assert "From the documents: Ana works in Lisbon." in answer


def test_upstream_error_texts_are_short_and_never_carry_the_key():
    body = b'{"error": {"message": "Incorrect API key provided: sk-secret-123"}}'
    assert _upstream_message(body, "sk-secret-123") == "Incorrect API key provided: [redacted]"
    assert len(_upstream_message(b"x" * 5000, "")) == 300


def test_engine_urls():
    openai = OpenAICompatibleEngine(UpstreamTarget(kind="openai", endpoint="https://api.example.com/v1/"))
    assert openai._completions_url("gpt") == "https://api.example.com/v1/chat/completions"
    assert (
        OpenAICompatibleEngine(UpstreamTarget(kind="openai", endpoint="http://h:1"))._models_url()
        == "http://h:1/v1/models"
    )
    azure = AzureOpenAIEngine(UpstreamTarget(kind="azure", endpoint="https://r.openai.azure.com", api_version="v1"))
    assert azure._completions_url("my deploy") == (
        "https://r.openai.azure.com/openai/deployments/my%20deploy/chat/completions?api-version=v1"
    )
