"""Training engines by algorithm, behind one small Protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings

from apps.models_registry.models import AIModel, Algorithm, VocabularyEntry

Progress = Callable[[int], None]


class TrainingEngine(Protocol):
    name: str

    def train(self, model: AIModel, *, progress: Progress) -> tuple[bytes, dict[str, Any]]:
        """The artifact's bytes and a few metrics; raises TrainingError with a reason the user can act on."""
        ...


def vocabulary_terms(model: AIModel) -> list[tuple[str, str]]:
    rows = VocabularyEntry.objects.for_company(model.company_id).filter(model=model)
    return list(rows.values_list("term", "definition"))


class NaturalBayesEngine:
    name = "natural-bayes"

    def train(self, model: AIModel, *, progress: Progress) -> tuple[bytes, dict[str, Any]]:
        from apps.models_registry.engines.nlu import classifier
        from apps.models_registry.services.training import TrainingError, nlu_examples

        examples = nlu_examples(model)
        if not examples:
            raise TrainingError(
                "There is nothing to learn from: add {intent, utterance} items to the model's input, or utterances "
                "to its intents."
            )
        if len({intent for intent, _ in examples}) < 1:
            raise TrainingError("At least one intent with utterances is needed.")
        trained = classifier.train(
            examples,
            synonym_terms=[term for term, _ in vocabulary_terms(model)],
            contextual_max_examples=settings.NLU_CONTEXTUAL_MAX_EXAMPLES,
            progress=progress,
        )
        return trained.to_bytes(), trained.metrics


class RetrievalEngine:
    name = "retrieval"

    def train(self, model: AIModel, *, progress: Progress) -> tuple[bytes, dict[str, Any]]:
        from apps.models_registry.engines import retrieval
        from apps.models_registry.selectors import datasource_list
        from apps.models_registry.services.training import TrainingError

        sources = list(datasource_list(company=model.company_id, model=model).values_list("pk", "originalname", "text"))
        terms = vocabulary_terms(model)
        if not sources and not terms:
            raise TrainingError("There is nothing to index: add data sources or vocabulary to the model first.")
        progress(20)
        index = retrieval.build(
            [retrieval.Document(str(pk), name, text) for pk, name, text in sources],
            vocabulary=terms,
        )
        progress(90)
        return index.to_bytes(), index.metrics


class SpeechEngine:
    """asr: check the engine `model_name_or_path` names loads and runs; keep it with the vocabulary as hotwords."""

    name = "asr"

    def train(self, model: AIModel, *, progress: Progress) -> tuple[bytes, dict[str, Any]]:
        import numpy as np

        from apps.core.exceptions import ApplicationError
        from apps.models_registry.asr.audio import SAMPLE_RATE
        from apps.models_registry.asr.engines import ALIASES
        from apps.models_registry.services.speech import SpeechSettings, speech_recognizer
        from apps.models_registry.services.training import TrainingError

        engine = model.model_name_or_path.strip()
        engine = ALIASES.get(engine, engine)
        forms = (form.strip() for term, _ in vocabulary_terms(model) for form in term.split("|"))
        hotwords = list(dict.fromkeys(form for form in forms if form))
        progress(20)
        try:
            recognizer = speech_recognizer(company=model.company_id, engine=engine)
            if "." not in engine:  # a local engine must load and run; a provider is only called for real audio
                recognizer.transcribe(np.zeros(SAMPLE_RATE // 2, dtype=np.float32), hotwords=hotwords[:5] or None)
        except ApplicationError as exc:
            raise TrainingError(f"The speech engine {engine!r} cannot be used: {exc.message}") from exc
        progress(90)
        chosen = SpeechSettings(engine=engine, hotwords=hotwords)
        return chosen.to_bytes(), {"engine": engine, "hotwords": len(hotwords)}


ENGINES: dict[str, TrainingEngine] = {
    Algorithm.NATURAL_BAYES: NaturalBayesEngine(),
    Algorithm.LLM: RetrievalEngine(),
    Algorithm.ASR: SpeechEngine(),
}


def engine_for(algorithm: str) -> TrainingEngine:
    from apps.models_registry.services.training import TrainingError

    engine = ENGINES.get(algorithm)
    if engine is None:
        raise TrainingError(f"No training engine is installed for {algorithm} models.")
    return engine
