"""Models: save, delete, deploy, and the default LLM of a company."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from apps.core import limits as core_limits
from apps.core.exceptions import Conflict, InvalidInput
from apps.core.ids import rows_with_ids
from apps.models_registry.asr.engines import ALIASES, DEFAULT_ENGINE, RECOGNIZERS
from apps.models_registry.asr.providers import provider_roles_check
from apps.models_registry.models import AIModel, Algorithm
from apps.models_registry.selectors import model_get

MAX_TRAINING_ITEMS = 200_000
DEFAULT_LLM_PROVIDER_MODEL = "builtin.extractive"


def _speech_engine_validate(name: str) -> str:
    """An asr model's engine: a local one by name, or an OpenAI-compatible provider's `provider.model`."""
    name = ALIASES.get(name, name)
    provider, _, upstream = name.partition(".")
    if name in RECOGNIZERS or (provider and upstream):
        return name
    raise InvalidInput(
        f"Invalid model_name_or_path for an asr model: use {', '.join(RECOGNIZERS)}, or provider.model for a "
        "provider's transcription model."
    )


def json_list(value: Any, *, field: str) -> list[Any]:
    """A JSON array given either as a list or as a string holding JSON (as the spec's examples send it)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"Invalid {field}: not valid JSON ({exc.msg} at position {exc.pos}).") from exc
    if not isinstance(value, list):
        raise InvalidInput(f"Invalid {field}: expected a JSON array.")
    if len(value) > MAX_TRAINING_ITEMS:
        raise InvalidInput(f"Invalid {field}: more than {MAX_TRAINING_ITEMS} items.")
    return value


def _nlu_input_validate(items: list[Any]) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str) or not item["intent"].strip():
            raise InvalidInput(f'Invalid input: item {index} needs an "intent" string.')
        utterances = item.get("utterances", [item.get("utterance")] if "utterance" in item else None)
        if not isinstance(utterances, list) or not all(isinstance(u, str) and u.strip() for u in utterances):
            raise InvalidInput(
                f'Invalid input: item {index} needs an "utterance" string or an "utterances" array of strings.'
            )


def _nlu_output_validate(items: list[Any]) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str) or not item["intent"].strip():
            raise InvalidInput(f'Invalid output: item {index} needs an "intent" string.')
        answers = item.get("answers", [item.get("answer")] if "answer" in item else None)
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise InvalidInput(f'Invalid output: item {index} needs an "answer" string or an "answers" array.')


@transaction.atomic
def model_save(
    *,
    company: Any,
    actor: Any,
    name: str,
    algorithm: str,
    modelid: str | None = None,
    description: str | None = None,
    ispublic: bool | None = None,
    isdefault_llm: bool | None = None,
    isactive: bool | None = None,
    tags: list[str] | None = None,
    input: Any = None,
    output: Any = None,
    model_name_or_path: str | None = None,
) -> AIModel:
    """Create a model, or update the one `modelid` names; input/output may be JSON strings or arrays."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Missing or invalid model name.")
    if algorithm not in Algorithm.values:
        raise InvalidInput(f"Invalid algorithm: {algorithm!r}. Valid algorithms: {', '.join(Algorithm.values)}.")
    if modelid:
        model = model_get(company=company, modelid=modelid, for_update=True)
        if model.algorithm != algorithm:
            raise InvalidInput("The algorithm of an existing model cannot be changed; create a new model instead.")
    else:
        # The plan's model limit, asked through the core hook (billing sits beside the registry, not below it).
        core_limits.check_limit(company, core_limits.MODELS, 1, current=AIModel.objects.for_company(company).count())
        model = AIModel(company=company, algorithm=algorithm)
        if algorithm == Algorithm.LLM:
            model.model_name_or_path = DEFAULT_LLM_PROVIDER_MODEL
        elif algorithm == Algorithm.ASR:
            model.model_name_or_path = DEFAULT_ENGINE
    model.name = name
    if description is not None:
        model.description = description
    if ispublic is not None:
        model.ispublic = ispublic
    if isactive is not None:
        model.isactive = isactive
    if tags is not None:
        model.tags = list(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
    if input is not None:
        model.input = json_list(input, field="input")
    if output is not None:
        model.output = json_list(output, field="output")
    if algorithm == Algorithm.NATURAL_BAYES:
        _nlu_input_validate(model.input)
        _nlu_output_validate(model.output)
    if model_name_or_path is not None:
        model.model_name_or_path = model_name_or_path.strip()
        if algorithm == Algorithm.ASR:
            model.model_name_or_path = _speech_engine_validate(model.model_name_or_path)
            provider_roles_check(company=company, user=actor, model_id=model.model_name_or_path)
    if isdefault_llm is not None:
        if isdefault_llm and algorithm != Algorithm.LLM:
            raise InvalidInput("Only an llm model can be the default LLM.")
        if isdefault_llm:
            # One default per company: the previous default stops being it in the same transaction.
            AIModel.objects.for_company(company).filter(isdefault_llm=True).exclude(pk=model.pk).update(
                isdefault_llm=False
            )
        model.isdefault_llm = isdefault_llm
    model.save()
    return model


@transaction.atomic
def models_delete(*, company: Any, actor: Any, modelids: list[str]) -> int:
    """Delete models with everything that belongs to them; all or nothing."""
    if not modelids:
        raise InvalidInput("Missing models.")
    found = rows_with_ids(
        AIModel.objects.for_company(company).select_for_update(),
        modelids,
        what="Model",
        message="Model not found; no model was deleted.",
    )
    locked = [m.name for m in found if not m.candelete]
    if locked:
        raise Conflict(f"These models cannot be deleted: {', '.join(locked)}; no model was deleted.")
    for model in found:
        model.delete()
    return len(found)


@transaction.atomic
def model_deploy(*, company: Any, actor: Any, modelid: str, isdeployed: bool) -> AIModel:
    """Deploy a trained model, or undeploy a model."""
    model = model_get(company=company, modelid=modelid, for_update=True)
    if isdeployed and not model.version:
        raise Conflict("Only a trained model can be deployed; train it first.")
    model.isdeployed = isdeployed
    model.save(update_fields=["isdeployed", "updated_at"])
    return model
