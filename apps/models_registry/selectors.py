"""Reads of the registry, always scoped to the caller's company."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from apps.core.exceptions import NotFound
from apps.core.ids import parse_uuid
from apps.models_registry.models import AIModel, Algorithm, DataSource, Intent, ModelArtifact, Slot, VocabularyEntry
from apps.models_registry.providers.models import registry_model_id

MODEL_NOT_FOUND = "Model not found."


def model_list(*, company: Any) -> QuerySet[AIModel]:
    """The company's models, oldest first."""
    return AIModel.objects.for_company(company)


def model_get(*, company: Any, modelid: Any, for_update: bool = False) -> AIModel:
    """One model of the company; unknown, malformed and other companies' ids are all 'not found'."""
    pk = parse_uuid(modelid)
    queryset = AIModel.objects.for_company(company)
    if for_update:
        queryset = queryset.select_for_update()
    model = queryset.filter(pk=pk).first() if pk else None
    if model is None:
        raise NotFound(MODEL_NOT_FOUND)
    return model


def intent_list(*, company: Any, model: AIModel) -> QuerySet[Intent]:
    return Intent.objects.for_company(company).filter(model=model)


def slot_list(*, company: Any, model: AIModel) -> QuerySet[Slot]:
    return Slot.objects.for_company(company).filter(model=model)


def slot_get_by_name(*, company: Any, model: AIModel, name: str) -> Slot:
    slot = slot_list(company=company, model=model).filter(name=name).first()
    if slot is None:
        raise NotFound("Slot not found.")
    return slot


def vocabulary_list(*, company: Any, model: AIModel) -> QuerySet[VocabularyEntry]:
    return VocabularyEntry.objects.for_company(company).filter(model=model)


def datasource_list(*, company: Any, model: AIModel) -> QuerySet[DataSource]:
    return DataSource.objects.for_company(company).filter(model=model)


def artifact_current(*, model: AIModel) -> ModelArtifact | None:
    """The artifact of the version in use, or None when the model was never trained."""
    if not model.version:
        return None
    return ModelArtifact.objects.for_company(model.company_id).filter(model=model, version=model.version).first()


def asr_model_deployed(*, company: Any) -> AIModel | None:
    """The company's deployed speech model (the oldest, should several be deployed), or None."""
    return (
        AIModel.objects.for_company(company)
        .filter(algorithm=Algorithm.ASR, isdeployed=True, isactive=True, version__gt=0)
        .order_by("created_at", "id")
        .first()
    )


def chat_model_list(*, company: Any) -> QuerySet[AIModel]:
    """The company's llm models that chat: deployed, active and trained."""
    return AIModel.objects.for_company(company).filter(
        algorithm=Algorithm.LLM, isdeployed=True, isactive=True, version__gt=0
    )


def chat_model_get(*, company: Any, modelid: Any) -> AIModel:
    """One chat model of the company (see `chat_model_list`); anything else is not found."""
    pk = parse_uuid(modelid)
    model = chat_model_list(company=company).filter(pk=pk).first() if pk else None
    if model is None:
        raise NotFound(MODEL_NOT_FOUND)
    return model


def default_chat_model(*, company: Any) -> str:
    """The model id a company's chats use when none is named: its default llm model, else GATEWAY_DEFAULT_MODEL."""
    pk = chat_model_list(company=company).filter(isdefault_llm=True).values_list("pk", flat=True).first()
    return registry_model_id(pk) if pk else settings.GATEWAY_DEFAULT_MODEL


def knowledge_list(*, company: Any) -> QuerySet[AIModel]:
    """The company's llm models as knowledge bases, each with its documents (without their text)."""
    documents = DataSource.objects.for_company(company).defer("text").order_by("created_at", "id")
    return (
        AIModel.objects.for_company(company)
        .filter(algorithm=Algorithm.LLM)
        .prefetch_related(Prefetch("datasources", queryset=documents))
    )


def knowledge_default(*, company: Any) -> AIModel | None:
    """Where documents go when no knowledge base is named: the company's default llm model."""
    return AIModel.objects.for_company(company).filter(algorithm=Algorithm.LLM, isdefault_llm=True).first()


def tool_list(*, company: Any) -> QuerySet[AIModel]:
    """The company's deployed, active, trained NLU models: tools a chat client can call (model/test)."""
    return AIModel.objects.for_company(company).filter(
        algorithm=Algorithm.NATURAL_BAYES, isdeployed=True, isactive=True, version__gt=0
    )
