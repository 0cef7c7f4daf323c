"""Input and output shapes of the transcript endpoints."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from apps.transcripts.models import Transcript


class TranscriptSerializer(serializers.ModelSerializer):
    """A transcript as the spec shows it, with the job's state beside the spec's `status`."""

    transcriptid = serializers.UUIDField(source="id")
    status = serializers.BooleanField(help_text="True when the text is ready.")
    created = serializers.DateTimeField(source="created_at")
    transcript = serializers.CharField(source="text")
    speakers = serializers.ListField(child=serializers.CharField())
    tags = serializers.ListField(child=serializers.CharField())
    owner = serializers.UUIDField(source="owner_id", allow_null=True)

    class Meta:
        model = Transcript
        fields: tuple[str, ...] = (
            "transcriptid",
            "reference_label",
            "description",
            "status",
            "state",
            "progress",
            "error",
            "created",
            "transcript",
            "speakers",
            "tags",
            "shared",
            "source",
            "language",
            "audio_seconds",
            "owner",
        )


class TranscriptDetailSerializer(TranscriptSerializer):
    """transcript/get adds the timed segments (with word timings for recognised audio)."""

    class Meta(TranscriptSerializer.Meta):
        fields = (*TranscriptSerializer.Meta.fields, "segments", "engine")


class StringListField(serializers.ListField):
    """A list of strings sent as a JSON array, a JSON string of one, repeated form fields, or a comma list."""

    child = serializers.CharField(allow_blank=True, max_length=100)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            data = [data]
        if isinstance(data, list):
            expanded: list[Any] = []
            for item in data:
                if isinstance(item, str) and item.strip().startswith("["):
                    try:
                        parsed = json.loads(item)
                    except json.JSONDecodeError as exc:
                        raise serializers.ValidationError("Not a valid JSON list.") from exc
                    expanded.extend(parsed if isinstance(parsed, list) else [parsed])
                elif isinstance(item, str) and "," in item:
                    expanded.extend(part.strip() for part in item.split(","))
                else:
                    expanded.append(item)
            data = expanded
        return super().to_internal_value(data)


class TranscriptSaveInputSerializer(serializers.Serializer):
    transcriptid = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    transcript = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=5_000_000)
    reference_label = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    speakers = StringListField(required=False)
    tags = StringListField(required=False)
    shared = serializers.BooleanField(required=False, allow_null=True, default=None)


class TranscriptFileInputSerializer(serializers.Serializer):
    reference_label = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    tags = StringListField(required=False)
    shared = serializers.BooleanField(required=False, default=False)
    file = serializers.FileField(allow_empty_file=True)


class TranscriptIdInputSerializer(serializers.Serializer):
    transcriptid = serializers.CharField()


class ExportFormatInputSerializer(serializers.Serializer):
    exportas = serializers.ChoiceField(choices=["txt", "pdf"], default="txt")


class TranscriptExportInputSerializer(ExportFormatInputSerializer):
    transcriptid = serializers.CharField()


class TranscriptsExportInputSerializer(serializers.Serializer):
    transcripts = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    exportas = serializers.ChoiceField(choices=["txt", "pdf"], default="txt")


class TranscriptsDeleteInputSerializer(serializers.Serializer):
    transcriptions = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class TranscriptListInputSerializer(serializers.Serializer):
    tag = serializers.CharField(required=False, allow_blank=True)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    date_from = serializers.DateTimeField(required=False)
    date_to = serializers.DateTimeField(required=False)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=100)
