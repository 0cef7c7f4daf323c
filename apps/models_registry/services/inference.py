"""model/test: run a trained model on a sentence (NLU with entities and slot filling, or retrieval + answer)."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.billing.services.limits import meters_check, usage_add
from apps.core.exceptions import Conflict, InvalidInput
from apps.core.limits import INFERENCE_REQUESTS, TOKENS
from apps.models_registry.engines import language, sentiment
from apps.models_registry.engines.nlu import entities as ent
from apps.models_registry.models import AIModel, Algorithm, Intent, ModelArtifact, Slot
from apps.models_registry.providers.engines import (
    CompletionRequest,
    Grounding,
    ProviderError,
    ProviderTimeout,
    call_sync,
    content_text,
    engine_for,
    grounded_answer,
)
from apps.models_registry.providers.selectors import ResolvedModel, registry_model_resolve
from apps.models_registry.providers.tokens import count_tokens
from apps.models_registry.providers.usage import completion_usage_record, rate_limit_check
from apps.models_registry.selectors import model_get, vocabulary_list

BUILTIN_TYPES = ("email", "url", "phone", "date", "number")
MAX_VOCABULARY_CONTEXT = 20
BUILTIN_ANSWERER = "builtin.extractive"  # ExtractiveAnswerer.name, without loading scikit-learn to say it
_WORD = re.compile(r"\w+")

_cache_lock = threading.Lock()
_cache: OrderedDict[tuple[str, int], Any] = OrderedDict()


def _loaded(model: AIModel) -> Any:
    """The trained engine of the model's current version, loaded once per process (a small LRU)."""
    key = (str(model.pk), model.version)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    artifact = ModelArtifact.objects.filter(model=model, version=model.version).only("engine", "data").first()
    if artifact is None:
        raise Conflict("The model's trained version is missing; train it again.")
    blob = bytes(artifact.data)
    if artifact.engine == "natural-bayes":
        from apps.models_registry.engines.nlu.classifier import NluModel

        engine: Any = NluModel.from_bytes(blob)
    else:
        from apps.models_registry.engines.retrieval import Index

        engine = Index.from_bytes(blob)
    with _cache_lock:
        _cache[key] = engine
        while len(_cache) > settings.REGISTRY_CACHE_MODELS:
            _cache.popitem(last=False)
    return engine


def model_test(
    *,
    company: Any,
    actor: Any,
    modelid: str,
    input: str,
    context: dict[str, Any] | None = None,
    classifications: int | None = None,
) -> dict:
    """The model's output for one sentence, as the spec shows it plus NLP.js-style fields.

    `classifications`: how many of the best intents are listed (None: NLU_CLASSIFICATIONS; 0: all of them).
    """
    model = model_get(company=company, modelid=modelid)
    if model.algorithm == Algorithm.ASR:
        raise InvalidInput(
            "Speech (asr) models are tested with a recording: send multipart/form-data with `file` (wav, mp3, flac "
            "or ogg) instead of `input` text."
        )
    text = (input or "").strip()
    if not text:
        raise InvalidInput("Missing input.")
    if not model.version:
        raise Conflict("The model has not been trained yet; train it with model/train first.")
    if model.algorithm == Algorithm.NATURAL_BAYES:
        wanted = settings.NLU_CLASSIFICATIONS if classifications is None else classifications
        limit = wanted or None  # 0: every intent
        return _nlu_output(model, text, context or {}, limit)
    return _llm_output(model, text, actor)


def _answer(model: AIModel, intent: str) -> str | None:
    """The intent's answer: its own `answer`, else the first of the model's output for it."""
    own = Intent.objects.for_company(model.company_id).filter(model=model, name=intent)
    stored = next(iter(own.values_list("answer", flat=True)), "")
    if stored.strip():
        return stored
    for item in model.output or []:
        if isinstance(item, dict) and item.get("intent") == intent:
            options = item.get("answers", [item.get("answer")])
            for option in options if isinstance(options, list) else []:
                if isinstance(option, str) and option.strip():
                    return option
    return None


def _slot_value(slot: Slot, text: str, found: list[ent.Entity], whole_answer: bool) -> Any:
    values = ent.slot_values(slot.conditions or [])
    if values:
        matches = ent.find_values(text, slot.name, values)
        if matches:
            return matches[0].value
    else:
        kind = next((t for t in BUILTIN_TYPES if t in slot.name.lower()), None)
        typed = [e for e in found if e.entity == kind] if kind else []
        if typed:
            return typed[0].value
    if whole_answer and not values:
        return text  # the answer to the follow-up question is the value itself
    return None


def _nlu_output(model: AIModel, text: str, context: dict[str, Any], limit: int | None) -> dict[str, Any]:
    engine = _loaded(model)
    prediction = engine.predict(text, threshold=settings.NLU_THRESHOLD, limit=limit)
    found = ent.builtin_entities(text, timezone.now().date())
    terms = list(vocabulary_list(company=model.company_id, model=model).values_list("term", flat=True))
    vocabulary_hits = ent.find_values(text, "vocabulary", [(t.split("|")[0], t.split("|")) for t in terms])
    entities: dict[str, Any] = {}
    for entity in [*found, *vocabulary_hits]:
        entities.setdefault(entity.entity, entity.value)

    intent = prediction.intent
    score = prediction.score
    filled: dict[str, Any] = {}
    current_slot = context.get("currentSlot") if isinstance(context.get("currentSlot"), str) else None
    if current_slot and isinstance(context.get("intent"), str):
        # A follow-up turn: the client sent back the slotFill of the previous answer.
        intent = context["intent"]
        score = max(score, 1.0)
        previous = context.get("entities")
        filled.update(previous if isinstance(previous, dict) else {})
    slots = list(Slot.objects.for_company(model.company_id).filter(model=model, intent=intent or "", isactive=True))
    for slot in slots:
        if slot.name in filled:
            continue
        value = _slot_value(slot, text, found, whole_answer=slot.name == current_slot)
        if value is not None:
            filled[slot.name] = value
    entities.update(filled)
    missing = next((slot for slot in slots if slot.isrequired and slot.name not in filled), None)
    answer = _answer(model, intent) if intent else None
    slot_fill = None
    if missing is not None:
        response = missing.followup
        slot_fill = {
            "intent": intent,
            "entities": filled,
            "currentSlot": missing.name,
            "question": missing.followup,
            "answer": answer,
        }
    else:
        response = answer
    detected = language.detect(text)
    feeling, compound = sentiment.analyse(text)
    output: dict[str, Any] = {
        "score": round(min(score, 1.0), 4),
        "intent": intent,
        "language": detected,
        "response": response,
        "entities": entities,
        "sentiment": feeling,
        # NLP.js process() fields, for integrators moving from it.
        "utterance": text,
        "locale": detected,
        "classifications": prediction.classifications,
        "answer": response,
        "sentimentScore": round(compound, 4),
        "entityList": [e.as_dict() for e in [*found, *vocabulary_hits]],
    }
    if slot_fill is not None:
        output["slotFill"] = slot_fill
    return output


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _vocabulary_mentioned(model: AIModel, question: str) -> list[tuple[str, str]]:
    """The model's vocabulary entries whose term (or one of its `a|b` forms) the question mentions."""
    asked = f" {_words(question)} "
    found = []
    for term, definition in vocabulary_list(company=model.company_id, model=model).values_list("term", "definition"):
        forms = [_words(form) for form in term.split("|")]
        if any(form and f" {form} " in asked for form in forms):
            found.append((term.split("|")[0], definition))
    return found[:MAX_VOCABULARY_CONTEXT]


def llm_grounding(*, model: AIModel, question: str) -> Grounding:
    """What an llm model adds to a question: its best passages (retrieval) and the vocabulary it mentions."""
    if not model.version:
        raise Conflict("The model has not been trained yet; train it with model/train first.")
    hits = _loaded(model).search(question, k=settings.RETRIEVAL_TOP_K) if question.strip() else []
    return Grounding(question=question, passages=hits, vocabulary=_vocabulary_mentioned(model, question))


def _provider_complete(company: Any, actor: Any, resolved: ResolvedModel, request: CompletionRequest) -> dict[str, Any]:
    """A provider's completion, checked against and counted on the plan like every other completion."""
    rate_limit_check(company=company)
    meters_check(company=company, amounts={INFERENCE_REQUESTS: 1, TOKENS: 1})
    engine = engine_for(resolved.target)
    started = time.perf_counter()
    try:
        result = call_sync(lambda: engine.complete(request))
    except ProviderError as exc:
        outcome = "timeout" if isinstance(exc, ProviderTimeout) else "error"
        _usage_account(
            company, actor, resolved, started, 0, 0, counted_locally=True, outcome=outcome, error=exc.message
        )
        raise
    usage = result.get("usage") if isinstance(result.get("usage"), dict) else {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        local = False
    else:  # the upstream gave none: counted here
        local = True
        choice = result["choices"][0] if result["choices"] else {}
        reply = content_text((choice.get("message") or {}).get("content"))
        sent = " ".join(content_text(m.get("content")) for m in request.upstream_messages())
        prompt, completion = count_tokens(sent), count_tokens(reply)
    _usage_account(company, actor, resolved, started, prompt, completion, counted_locally=local, outcome="ok")
    return result


def _usage_account(
    company: Any, actor: Any, resolved: ResolvedModel, started: float, prompt: int, completion: int, **more: Any
) -> None:
    """Count the request and its tokens on the plan and leave its usage record, in one transaction."""
    with transaction.atomic():
        usage_add(company=company, amounts={INFERENCE_REQUESTS: 1, TOKENS: prompt + completion})
        completion_usage_record(
            company=company,
            user=actor,
            model=resolved.model_id,
            provider=resolved.provider_name,
            source="model-test",
            stream=False,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_ms=int((time.perf_counter() - started) * 1000),
            **more,
        )


def _llm_output(model: AIModel, text: str, actor: Any) -> dict[str, Any]:
    """The answer of the upstream the model names (the built-in one: extracted from the passages), with sources."""
    grounding = llm_grounding(model=model, question=text)
    resolved = registry_model_resolve(company=model.company_id, user=actor, model=model)
    hits = grounding.passages
    if resolved.target.kind == "builtin":
        answer = grounded_answer(grounding)
        reply, used, answerer = answer.text, answer.used, BUILTIN_ANSWERER
    else:
        request = CompletionRequest(
            model=resolved.upstream_model, messages=[{"role": "user", "content": text}], grounding=grounding
        )
        result = _provider_complete(model.company, actor, resolved, request)
        choice = result["choices"][0] if result["choices"] else {}
        reply = content_text((choice.get("message") or {}).get("content"))
        used, answerer = hits, model.model_name_or_path.strip()
    detected = language.detect(text)
    feeling, _ = sentiment.analyse(text)
    top = hits[0].score if hits else 0.0
    sources: dict[str, dict[str, Any]] = {}
    for hit in used:
        sources.setdefault(hit.source_id, {"id": hit.source_id, "name": hit.source_name, "score": hit.score})
    return {
        "score": round(top / (top + 5.0), 4) if top else 0.0,  # BM25 mapped into 0..1
        "intent": None,
        "language": detected,
        "response": reply,
        "entities": {},
        "sentiment": feeling,
        "utterance": text,
        "answer": reply,
        "answerer": answerer,
        "sources": list(sources.values()),
        "passages": [{"text": h.text, "source": h.source_id, "name": h.source_name, "score": h.score} for h in hits],
    }
