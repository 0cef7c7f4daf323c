"""Training: queue a job, run it in a worker, keep the previous version when a run fails."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.core.exceptions import Conflict
from apps.core.realtime import job_progress_send
from apps.models_registry.asr.providers import provider_roles_check
from apps.models_registry.models import AIModel, Algorithm, Intent, ModelArtifact, TrainingState
from apps.models_registry.selectors import model_get

logger = logging.getLogger(__name__)


class TrainingError(Exception):
    """A training run that cannot succeed, with a reason fit for the model manager."""


@transaction.atomic
def model_train(*, company: Any, actor: Any, modelid: str) -> AIModel:
    """Queue a training job for the model; the answer comes at once, the state shows in models/get."""
    from apps.models_registry.tasks import train_model

    model = model_get(company=company, modelid=modelid, for_update=True)
    if model.state in (TrainingState.QUEUED, TrainingState.TRAINING):
        raise Conflict("The model is already being trained.")
    if model.algorithm == Algorithm.ASR:  # the worker trains for the company: the person's roles are checked here
        provider_roles_check(company=company, user=actor, model_id=model.model_name_or_path.strip())
    model.state = TrainingState.QUEUED
    model.progress = 0
    model.error = ""
    model.save(update_fields=["state", "progress", "error", "updated_at"])
    model_id = str(model.pk)
    transaction.on_commit(lambda: _announce(model, TrainingState.QUEUED, 0))
    transaction.on_commit(lambda: train_model.delay(model_id=model_id))
    return model


def _announce(model: AIModel, state: str, progress: int, error: str = "") -> None:
    """Push the training's state and progress to the company's events sockets."""
    job_progress_send(
        company_id=model.company_id, job="training", object_id=model.pk, state=state, progress=progress, error=error
    )


def _set_progress(model: AIModel, percent: int) -> None:
    percent = max(0, min(99, percent))
    AIModel.objects.filter(pk=model.pk).update(progress=percent)
    _announce(model, TrainingState.TRAINING, percent)


def nlu_examples(model: AIModel) -> list[tuple[str, str]]:
    """(intent, utterance) pairs from the model's input and its intents; creates intents named only in input."""
    examples: list[tuple[str, str]] = []
    for item in model.input or []:
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str):
            continue
        utterances = item.get("utterances", [item.get("utterance")])
        for utterance in utterances if isinstance(utterances, list) else []:
            if isinstance(utterance, str) and utterance.strip():
                examples.append((item["intent"].strip(), utterance))
    intents = {row.name: row for row in Intent.objects.for_company(model.company_id).filter(model=model)}
    for row in intents.values():
        if row.isactive:
            examples.extend((row.name, utterance) for utterance in row.utterances)
    inactive = {name for name, row in intents.items() if not row.isactive}
    examples = [(intent, utterance) for intent, utterance in examples if intent not in inactive]
    for name in sorted({intent for intent, _ in examples} - set(intents)):
        Intent.objects.create(company_id=model.company_id, model=model, name=name)
    return examples


def model_train_run(*, model_id: str) -> None:
    """Run one training of the model (in a worker); on failure the model keeps its previous version."""
    model = AIModel.objects.filter(pk=model_id).first()
    if model is None:
        return  # deleted after it was queued
    AIModel.objects.filter(pk=model.pk).update(state=TrainingState.TRAINING, progress=5, error="")
    _announce(model, TrainingState.TRAINING, 5)
    try:
        from apps.models_registry.engines.registry import engine_for

        engine = engine_for(model.algorithm)
        blob, metrics = engine.train(model, progress=lambda percent: _set_progress(model, percent))
    except TrainingError as exc:
        _fail(model, str(exc))
        return
    except Exception:
        logger.exception("Training of model %s failed", model.pk)
        _fail(model, "Training failed because of an internal error; it has been logged.")
        return
    with transaction.atomic():
        locked = AIModel.objects.select_for_update().filter(pk=model.pk).first()
        if locked is None:
            return
        version = (ModelArtifact.objects.filter(model=locked).aggregate(v=Max("version"))["v"] or 0) + 1
        ModelArtifact.objects.create(
            company_id=locked.company_id,
            model=locked,
            version=version,
            engine=engine.name,
            data=blob,
            size=len(blob),
            metrics=metrics,
        )
        keep = settings.REGISTRY_KEEP_VERSIONS
        old = ModelArtifact.objects.filter(model=locked).order_by("-version").values_list("pk", flat=True)[keep:]
        ModelArtifact.objects.filter(pk__in=list(old)).delete()
        locked.version = version
        locked.state = TrainingState.TRAINED
        locked.progress = 100
        locked.error = ""
        locked.trained_at = timezone.now()
        locked.save(update_fields=["version", "state", "progress", "error", "trained_at", "updated_at"])
        transaction.on_commit(lambda: _announce(locked, TrainingState.TRAINED, 100))


def _fail(model: AIModel, reason: str) -> None:
    AIModel.objects.filter(pk=model.pk).update(state=TrainingState.FAILED, progress=0, error=reason[:2000])
    _announce(model, TrainingState.FAILED, 0, reason[:2000])
