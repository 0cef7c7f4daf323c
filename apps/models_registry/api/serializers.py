"""Input and output shapes of the registry endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.models_registry.models import AIModel, Algorithm, DataSource, Intent, Slot, VocabularyEntry


@extend_schema_field(OpenApiTypes.ANY)
class JSONListField(serializers.Field):
    """A JSON array sent as an array or as a string holding JSON; parsed by the service."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str | list):
            raise serializers.ValidationError("Expected a JSON array or a string holding one.")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ModelIdSerializer(serializers.Serializer):
    modelid = serializers.CharField()


# --- models ----------------------------------------------------------------------------------------


class ModelSaveInputSerializer(serializers.Serializer):
    modelid = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(max_length=200)
    algorithm = serializers.ChoiceField(choices=Algorithm.values)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    ispublic = serializers.BooleanField(required=False)
    isdefault_llm = serializers.BooleanField(required=False)
    isactive = serializers.BooleanField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=100)
    input = JSONListField(required=False, help_text="JSON array, as an array or a string holding JSON.")
    output = JSONListField(required=False, help_text="JSON array, as an array or a string holding JSON.")
    model_name_or_path = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ModelSerializer(serializers.ModelSerializer):
    """A model as models/get lists it, with its training state."""

    modelid = serializers.UUIDField(source="id")
    trained_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = AIModel
        fields = (
            "modelid",
            "name",
            "description",
            "algorithm",
            "isactive",
            "isdeployed",
            "isdefault_llm",
            "ispublic",
            "candelete",
            "tags",
            "input",
            "output",
            "model_name_or_path",
            "state",
            "progress",
            "error",
            "version",
            "trained_at",
        )


class ModelsDeleteInputSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class DeployInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    isdeployed = serializers.BooleanField()


class ModelTestInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    input = serializers.CharField(
        max_length=10_000, trim_whitespace=True, required=False, allow_blank=True, help_text="natural-bayes, llm."
    )
    file = serializers.FileField(
        required=False, allow_empty_file=True, help_text="asr: the recording (wav, mp3, flac or ogg), multipart."
    )
    language = serializers.CharField(
        required=False, allow_blank=True, max_length=8, help_text="asr: the spoken language (ISO 639-1), if known."
    )
    classifications = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=100_000,
        help_text="natural-bayes: how many of the best intents `classifications` lists, besides None (default 10; "
        "0 lists every intent, as NLP.js does).",
    )
    context = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="natural-bayes: the `slotFill` of the previous answer, to fill the slot it asked for.",
    )


# --- intents -----------------------------------------------------------------------------------------


class IntentSaveInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    intentid = serializers.CharField(required=False, allow_blank=True)
    intent = serializers.CharField(max_length=200)
    isactive = serializers.BooleanField(required=False)
    utterances = serializers.ListField(child=serializers.CharField(max_length=2000), required=False, max_length=10_000)
    answer = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class IntentSerializer(serializers.ModelSerializer):
    intentid = serializers.UUIDField(source="id")
    modelid = serializers.UUIDField(source="model_id")

    class Meta:
        model = Intent
        fields = ("intentid", "modelid", "name", "isactive", "utterances", "answer")


class IntentsDeleteInputSerializer(serializers.Serializer):
    intents = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    modelid = serializers.CharField(required=False)


# --- slots ----------------------------------------------------------------------------------------------


class SlotSaveInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    slotid = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(max_length=200)
    intent = serializers.CharField(max_length=200)
    language = serializers.CharField(required=False, max_length=10)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    isrequired = serializers.BooleanField(required=False)
    isactive = serializers.BooleanField(required=False)
    followup = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    conditions = JSONListField(required=False, help_text="JSON array, as an array or a string holding JSON.")


class SlotGetInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    name = serializers.CharField()


class SlotSerializer(serializers.ModelSerializer):
    slotid = serializers.UUIDField(source="id")
    modelid = serializers.UUIDField(source="model_id")
    followup = serializers.SerializerMethodField()

    class Meta:
        model = Slot
        fields = (
            "slotid",
            "modelid",
            "name",
            "intent",
            "language",
            "description",
            "isrequired",
            "isactive",
            "followup",
            "conditions",
        )

    def get_followup(self, slot: Slot) -> dict[str, str]:
        return {"question": slot.followup}


class SlotEnvelopeSerializer(SlotSerializer):
    """slot/get: the slot's fields at the top level, with `success`."""

    success = serializers.BooleanField(default=True)

    class Meta(SlotSerializer.Meta):
        fields = ("success", *SlotSerializer.Meta.fields)  # type: ignore[assignment]


class SlotsDeleteInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    slots = serializers.ListField(child=serializers.CharField(), allow_empty=False)


# --- vocabulary ---------------------------------------------------------------------------------------------


class VocabularySaveInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    text = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class VocabularyDeleteInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    id = serializers.CharField()


class VocabularySerializer(serializers.ModelSerializer):
    """`term`/`definition` as vocabulary/get shows them, `text`/`description` as vocabulary/save takes them."""

    text = serializers.CharField(source="term")
    description = serializers.CharField(source="definition")

    class Meta:
        model = VocabularyEntry
        fields = ("id", "term", "definition", "text", "description")


class UploadInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=False)


# --- data sources --------------------------------------------------------------------------------------------


class DataSourceSaveInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    url = serializers.CharField(max_length=2000)


class DataSourceDeleteInputSerializer(serializers.Serializer):
    modelid = serializers.CharField()
    id = serializers.CharField()


def datasource_entry(source: DataSource) -> dict[str, Any]:
    """One data source as datasources/get shows it (keyed by its name in the answer)."""
    return {
        "id": str(source.pk),
        "type": source.kind,
        "value": source.url or source.originalname,
        "characters": len(source.text),
        "updated": source.updated_at.isoformat().replace("+00:00", "Z"),
        "metadata": {
            "originalname": source.originalname,
            "mimetype": source.mimetype,
            "extension": source.extension,
            "path": source.url or None,
            "size": source.size,
        },
    }


def datasources_by_name(sources: list[DataSource]) -> dict[str, Any]:
    """The spec keys data sources by name; a repeated name gets its id appended so none is hidden."""
    result: dict[str, Any] = {}
    for source in sources:
        key = source.originalname
        if key in result:
            key = f"{key} ({source.pk})"
        result[key] = datasource_entry(source)
    return result


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
