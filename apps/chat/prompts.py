"""Prompt templates: the company's own, the shipped system templates, search, edits and previews.

Shipped templates (`SHIPPED`) are copied into every company as `is_template` prompts: by a data migration
for the companies that exist, and by `prompt_templates_ensure` for later ones (idempotent; the copy
is recognised by `metadata["template"]`). A template is read-only except for Company Admins (and the
key pair); a person's own prompts are theirs to change.

A preview fills the `{variables}` of a prompt (a missing one is a 422 naming it) and sends the text to a
model once, through the gateway's machinery (plan limits, model resolution, usage records); no chat is
stored for it.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet

from apps.accounts.roles import COMPANY_ADMIN
from apps.chat import services
from apps.chat.completions import (
    CompletionInput,
    Outcome,
    completion_prepare,
    failure_outcome,
    plan_account,
    rate_limit_check,
    usage_fields,
    usage_numbers,
)
from apps.chat.models import Prompt
from apps.chat.selectors import prompt_find, prompt_list_visible
from apps.core.exceptions import InvalidInput, PermissionDenied
from apps.models_registry.providers.engines import ProviderError, call_sync, engine_for
from apps.models_registry.providers.tokens import text_of

SHIPPED: list[dict[str, str]] = [
    {
        "key": "summarize",
        "title": "Text Summarizer",
        "content": "Summarize the following text in a few sentences:\n\n{text}",
        "scenario": "summarization",
        "description": "Generates a concise summary of a text.",
    },
    {
        "key": "translate",
        "title": "Translator",
        "content": "Translate the following text into {language}. Keep names and numbers as they are.\n\n{text}",
        "scenario": "translation",
        "description": "Translates a text into another language.",
    },
    {
        "key": "reply-email",
        "title": "Email Reply",
        "content": "Write a polite, {tone} reply to this email:\n\n{email}",
        "scenario": "writing",
        "description": "Drafts a reply to an email in the chosen tone.",
    },
    {
        "key": "explain-code",
        "title": "Code Explainer",
        "content": "Explain what this {language} code does, step by step:\n\n{code}",
        "scenario": "coding",
        "description": "Explains a piece of code.",
    },
]

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariables(InvalidInput):
    """A prompt's `{variables}` without values."""

    status_code = 422


def prompt_variables(content: str) -> list[str]:
    """The names of a prompt's `{variables}`, in order of first use."""
    return list(dict.fromkeys(_VARIABLE.findall(content)))


def prompt_fill(content: str, variables: dict[str, Any]) -> str:
    """The prompt with each `{name}` replaced by its value; MissingVariables (422) names the ones not given."""
    missing = [name for name in prompt_variables(content) if name not in variables]
    if missing:
        raise MissingVariables(f"Missing variables: {', '.join(missing)}.", extra={"missing": missing})
    return _VARIABLE.sub(lambda match: str(variables[match.group(1)]), content)


# --- templates and lists ----------------------------------------------------------------------------------


def prompt_templates_ensure(*, company: Any) -> int:
    """Give the company the shipped templates it lacks; how many were added."""
    have = set(
        Prompt.objects.for_company(company).filter(is_template=True).values_list("metadata__template", flat=True)
    )
    missing = [template for template in SHIPPED if template["key"] not in have]
    for template in missing:
        services.prompt_create(
            company=company, user=None, title=template["title"], content=template["content"],
            scenario=template["scenario"], description=template["description"],
            metadata={"template": template["key"]}, is_template=True,
        )  # fmt: skip
    return len(missing)


def prompt_search(
    *, company: Any, user: Any, scenario: str = "", include_templates: bool = True, search: str = ""
) -> QuerySet[Prompt]:
    """The prompts the caller may use, filtered; by number."""
    prompts = prompt_list_visible(company=company, user=user)
    if scenario:
        prompts = prompts.filter(scenario=scenario)
    if not include_templates:
        prompts = prompts.filter(is_template=False)
    if search:
        prompts = prompts.filter(
            Q(title__icontains=search) | Q(content__icontains=search) | Q(description__icontains=search)
        )
    return prompts


# --- writes ------------------------------------------------------------------------------------------------


def _may_change(user: Any, prompt: Prompt) -> bool:
    if prompt.is_template or not getattr(user, "is_person", False):
        return bool(user.has_any_role((COMPANY_ADMIN,)))
    return bool(prompt.user_id == user.pk)


def prompt_update(*, company: Any, user: Any, ref: Any, **fields: Any) -> Prompt:
    """Change a prompt's title, content, scenario, description or metadata."""
    with transaction.atomic():
        prompt = prompt_find(company=company, user=user, ref=ref)
        if not _may_change(user, prompt):
            raise PermissionDenied("Only a Company Admin may change the company's templates.")
        prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
        for name, value in fields.items():
            setattr(prompt, name, value)
        prompt.save(update_fields=[*fields, "updated_at"])
    return prompt


def prompt_delete(*, company: Any, user: Any, ref: Any) -> None:
    """Delete a prompt (a template only by a Company Admin)."""
    prompt = prompt_find(company=company, user=user, ref=ref)
    if not _may_change(user, prompt):
        raise PermissionDenied("Only a Company Admin may delete the company's templates.")
    prompt.delete()


# --- preview -----------------------------------------------------------------------------------------------


def prompt_preview(
    *,
    company: Any,
    user: Any,
    variables: dict[str, Any],
    prompt_ref: Any = None,
    content: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Fill a prompt (stored or given) and run it through a model once: preview, tokens_used, model_used."""
    prompt = prompt_find(company=company, user=user, ref=prompt_ref) if prompt_ref is not None else None
    filled = prompt_fill(prompt.content if prompt else content or "", variables)
    chosen = services.model_check(company=company, user=user, model=model or services.default_model(company))
    rate_limit_check(company=company)
    data = CompletionInput(
        message_id=uuid.uuid4(), chat_id=uuid.uuid4(), session_id="", model=chosen, stream=False,
        messages=[{"role": "user", "content": filled}],
    )  # fmt: skip
    prepared = completion_prepare(
        company=company, user=user, data=data, source="prompt-preview", started=time.perf_counter()
    )
    engine = engine_for(prepared.resolved.target)
    try:
        result = call_sync(lambda: engine.complete(prepared.request))
    except ProviderError as exc:
        _account(prepared, failure_outcome(exc))
        raise
    choice = result["choices"][0] if result.get("choices") else {}
    outcome = Outcome(content=text_of((choice.get("message") or {}).get("content")), usage=result.get("usage"))
    usage = _account(prepared, outcome)
    if prompt is not None:
        Prompt.objects.filter(pk=prompt.pk).update(usage_count=F("usage_count") + 1)
    return {"preview": outcome.content, "tokens_used": usage["total_tokens"], "model_used": chosen}


def _account(prepared: Any, outcome: Outcome) -> dict[str, int]:
    """Record a preview's usage (no chat) and count it against the plan."""
    prompt, completion, local = usage_numbers(prepared, outcome)
    services.usage_record(
        company=prepared.company, user=prepared.user, chat=None, model=prepared.data.model,
        **usage_fields(prepared, outcome, prompt, completion, local),
    )  # fmt: skip
    return plan_account(prepared, prompt, completion)
