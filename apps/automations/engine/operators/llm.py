"""The `llm` operator: a prompt rendered from templates, answered by a model of the provider layer.

It goes through the chat app's completion service, so it is refused past the plan's allowances and
counted like any completion (source `automation`); the exchange is kept as a chat of the company.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings as django_settings

from apps.automations.engine.operators.base import OperatorFailed, Outcome, Step
from apps.automations.engine.operators.logic import BuiltinOperator, summarize
from apps.automations.engine.principal import AutomationPrincipal
from apps.chat.completions import CompletionInput, completion_prepare, completion_run_sync, rate_limit_check
from apps.core.exceptions import ApplicationError
from apps.models_registry.providers.selectors import model_resolve
from apps.models_registry.providers.tokens import text_of

MAX_TOKENS_LIMIT = 128_000
DEFAULT_TIMEOUT_SECONDS = 60.0


def _number(settings: dict[str, Any], name: str, low: float, high: float, *, integer: bool = False) -> None:
    if name not in settings:
        return
    value = settings[name]
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"the setting '{name}' must be {kind} from {low:g} to {high:g}")


class LlmOperator(BuiltinOperator):
    type = "llm"
    summary = (
        "Sends `prompt` (a template; the user message) with an optional `system` template to `model`, a model "
        "id of the provider layer (`provider.model-name`, e.g. `builtin.assistant`), with optional "
        "`temperature` (0 to 2) and `max_tokens`. Plan limits and usage accounting apply as for any completion. "
        "The output is `{text, model, usage: {prompt_tokens, completion_tokens, total_tokens}}`."
    )
    required = ("model", "prompt")
    optional = ("system", "temperature", "max_tokens")
    templated = ("prompt", "system")

    def check(self, settings: dict[str, Any]) -> None:
        model = settings["model"]
        if not isinstance(model, str) or "." not in model.strip(".") or model != model.strip():
            raise ValueError("the setting 'model' must be a model id like provider.model-name")
        for name in ("prompt", "system"):
            if name in settings and (not isinstance(settings[name], str) or not settings[name].strip()):
                raise ValueError(f"the setting '{name}' must be a non-empty template")
        _number(settings, "temperature", 0, 2)
        _number(settings, "max_tokens", 1, MAX_TOKENS_LIMIT, integer=True)

    def check_company(self, settings: dict[str, Any], company: Any) -> None:
        try:
            model_resolve(company=company, user=AutomationPrincipal(company), model_id=settings["model"])
        except ApplicationError as exc:
            raise ValueError(f"the model '{settings['model']}' cannot be used: {exc.message}") from exc

    def default_timeout(self, settings: dict[str, Any]) -> float:
        return max(DEFAULT_TIMEOUT_SECONDS, float(django_settings.AUTOMATION_OPERATOR_TIMEOUT_SECONDS))

    def run(self, step: Step) -> Outcome:
        settings = step.settings
        messages: list[dict[str, Any]] = []
        if "system" in settings:
            messages.append({"role": "system", "content": step.render_text(settings["system"])})
        messages.append({"role": "user", "content": step.render_text(settings["prompt"])})
        params: dict[str, Any] = {name: settings[name] for name in ("temperature", "max_tokens") if name in settings}
        used: dict[str, Any] = {"model": settings["model"], "messages": messages, **params}
        # Ids derived from the run and node: an operator run again after a worker died answers in the same chat.
        chat_id = uuid.uuid5(uuid.UUID(str(step.run_id)), f"{step.node_id}:chat")
        data = CompletionInput(
            message_id=uuid.uuid5(chat_id, "reply"),
            chat_id=chat_id,
            session_id="",
            model=settings["model"],
            stream=False,
            messages=messages,
            params=params,
        )
        company, principal = step.company, AutomationPrincipal(step.company)
        try:
            rate_limit_check(company=company)
            prepared = completion_prepare(
                company=company, user=principal, data=data, source="automation", started=time.perf_counter()
            )
            timeout = step.remaining()
            if timeout <= 0:
                raise OperatorFailed("No time left for the model's answer.", input=used)
            result = completion_run_sync(prepared, timeout=timeout)
        except ApplicationError as exc:
            raise OperatorFailed(f"{settings['model']}: {exc.message}", input=used) from exc
        choice = result["choices"][0] if result.get("choices") else {}
        text = text_of((choice.get("message") or {}).get("content"))
        usage = result.get("usage") or {}
        output = {
            "text": text,
            "model": settings["model"],
            "usage": {key: usage.get(key, 0) for key in ("prompt_tokens", "completion_tokens", "total_tokens")},
            "finish_reason": choice.get("finish_reason"),
        }
        return Outcome(output=output, result=summarize(text), input=used)
