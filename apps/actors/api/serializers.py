"""Input and output shapes of the actor endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.actors.models import Actor


class PersonaSerializer(serializers.Serializer):
    name = serializers.CharField()
    prompt = serializers.CharField()


class ActorSerializer(serializers.Serializer):
    """An actor as the API shows it: `personas` are the names, `personadetails` adds each one's prompt."""

    actorid = serializers.UUIDField(source="id")
    name = serializers.CharField()
    description = serializers.CharField()
    isactive = serializers.BooleanField(source="is_active")
    prompt = serializers.CharField()
    personas = serializers.ListField(child=serializers.CharField(), source="persona_names")
    personadetails = serializers.SerializerMethodField()

    @extend_schema_field(PersonaSerializer(many=True))
    def get_personadetails(self, actor: Actor) -> list[dict[str, Any]]:
        return list(PersonaSerializer(actor.personas, many=True).data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "A persona's name."},
            {
                "type": "object",
                "properties": {"name": {"type": "string"}, "prompt": {"type": "string"}},
                "required": ["name"],
            },
        ]
    }
)
class PersonaInputField(serializers.JSONField):
    """A persona: its name, or `{"name", "prompt"}`."""


class ActorsListInputSerializer(serializers.Serializer):
    isactive = serializers.BooleanField(required=False, allow_null=True, default=None)


class ActorIdInputSerializer(serializers.Serializer):
    actorid = serializers.CharField(max_length=100)


class ActorSaveInputSerializer(serializers.Serializer):
    actorid = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    isactive = serializers.BooleanField(required=False)
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=50000, trim_whitespace=False)
    personas = serializers.ListField(child=PersonaInputField(), required=False)


class ActorsDeleteInputSerializer(serializers.Serializer):
    actors = serializers.ListField(child=serializers.CharField(max_length=100), allow_empty=False, max_length=1000)
