"""The company's models and what belongs to them: intents, slots, vocabulary, data sources, trained artifacts."""

from __future__ import annotations

from django.db import models

from apps.core.models import CompanyOwnedModel


class Algorithm(models.TextChoices):
    NATURAL_BAYES = "natural-bayes", "natural-bayes"
    LLM = "llm", "llm"
    ASR = "asr", "asr"


class TrainingState(models.TextChoices):
    DRAFT = "draft", "draft"
    QUEUED = "queued", "queued"
    TRAINING = "training", "training"
    TRAINED = "trained", "trained"
    FAILED = "failed", "failed"


class AIModel(CompanyOwnedModel):
    """A company's model: an NLU classifier, an LLM grounded in its documents, or a speech recogniser."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    algorithm = models.CharField(max_length=20, choices=Algorithm.choices)
    ispublic = models.BooleanField(default=False)
    isdefault_llm = models.BooleanField(default=False)
    isactive = models.BooleanField(default=True)
    isdeployed = models.BooleanField(default=False)
    candelete = models.BooleanField(default=True)
    tags = models.JSONField(default=list, blank=True)
    input = models.JSONField(default=list, blank=True)
    output = models.JSONField(default=list, blank=True)
    model_name_or_path = models.CharField(max_length=300, blank=True, default="")
    state = models.CharField(max_length=20, choices=TrainingState.choices, default=TrainingState.DRAFT)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=0, help_text="The trained version in use; 0 when never trained.")
    trained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("company",),
                condition=models.Q(isdefault_llm=True),
                name="registry_one_default_llm_per_company",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.algorithm})"


class ModelArtifact(CompanyOwnedModel):
    """One trained version of a model: the engine's serialized state, kept in the database."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="artifacts")
    version = models.PositiveIntegerField()
    engine = models.CharField(max_length=40)
    data = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("model", "-version")
        constraints = [models.UniqueConstraint(fields=("model", "version"), name="registry_artifact_version")]

    def __str__(self) -> str:
        return f"{self.model_id} v{self.version}"


class Intent(CompanyOwnedModel):
    """An intent of an NLU model, with optional example utterances and an answer."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="intents")
    name = models.CharField(max_length=200)
    isactive = models.BooleanField(default=True)
    utterances = models.JSONField(default=list, blank=True)
    answer = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("created_at", "id")
        constraints = [models.UniqueConstraint(fields=("model", "name"), name="registry_intent_name")]

    def __str__(self) -> str:
        return self.name


class Slot(CompanyOwnedModel):
    """A value an intent needs (an entity), with the question to ask when it is missing."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="slots")
    name = models.CharField(max_length=200)
    intent = models.CharField(max_length=200)
    language = models.CharField(max_length=10, default="en")
    description = models.TextField(blank=True, default="")
    isrequired = models.BooleanField(default=False)
    isactive = models.BooleanField(default=True)
    followup = models.TextField(blank=True, default="")
    conditions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [models.UniqueConstraint(fields=("model", "name"), name="registry_slot_name")]

    def __str__(self) -> str:
        return self.name


class VocabularyEntry(CompanyOwnedModel):
    """A term of a model's vocabulary with its definition (synonyms for NLU, context for LLM, hints for ASR)."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="vocabulary")
    term = models.CharField(max_length=500)
    definition = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("created_at", "id")
        constraints = [models.UniqueConstraint(fields=("model", "term"), name="registry_vocabulary_term")]

    def __str__(self) -> str:
        return self.term


class DataSourceKind(models.TextChoices):
    URL = "url", "url"
    FILE = "file", "file"


class DataSource(CompanyOwnedModel):
    """A document an LLM model is grounded in: a fetched URL or an uploaded file, kept as text."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="datasources")
    kind = models.CharField(max_length=10, choices=DataSourceKind.choices)
    url = models.URLField(max_length=2000, blank=True, default="")
    originalname = models.CharField(max_length=300)
    mimetype = models.CharField(max_length=120, blank=True, default="")
    extension = models.CharField(max_length=20, blank=True, default="")
    size = models.PositiveIntegerField(default=0)
    text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.originalname


# The upstream LLM providers and their keys live in their own module; Django finds models through this one.
from apps.models_registry.providers.models import *  # noqa: E402, F403
