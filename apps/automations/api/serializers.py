"""Input and output shapes of the automation endpoints, and the flow's OpenAPI schema."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.automations.engine import operators
from apps.automations.flow import NODE_ID
from apps.automations.models import Automation, AutomationEvent, AutomationRun
from apps.automations.services.automations import trigger_secret

TRIGGER_PATH = "/api/v1/automations/trigger/"


def trigger_url(request: Any, automation: Automation) -> str:
    """The automation's trigger URL: AUTOMATION_TRIGGER_BASE_URL, else the host the caller used."""
    base = settings.AUTOMATION_TRIGGER_BASE_URL
    if not base and request is not None:
        base = request.build_absolute_uri("/").rstrip("/")
    return f"{base}{TRIGGER_PATH}{trigger_secret(automation)}"


def _operators_description() -> str:
    lines = []
    for operator in operators.all_operators():
        needs = ", ".join(operator.required) or "none"
        extra = f"; optional: {', '.join(operator.optional)}" if operator.optional else ""
        lines.append(f"- `{operator.type}` (settings: {needs}{extra}): {operator.summary}")
    return "\n".join(lines)


FLOW_DESCRIPTION = (
    "A graph of operator nodes joined by edges. Nodes without incoming edges start the run; a node runs when "
    "every node before it is decided and at least one incoming edge is taken. Edges from a `condition` node may "
    'carry `when: "true"` or `"false"`. Templates (Jinja2, sandboxed) see `input` (the trigger body or test '
    "input), `results.<node id>` (earlier outputs), `run` and `automation`. A failing node fails the run unless "
    "it has `continue_on_error: true`. Saving refuses unknown operators, edges to unknown nodes, cycles and "
    "missing settings, naming the node.\n\nOperators:\n"
)


def flow_schema() -> dict[str, Any]:
    """The OpenAPI schema of a flow, listing the registered operators and their settings."""
    string = {"type": "string"}
    node = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": {**string, "pattern": NODE_ID.pattern, "description": "Unique in the flow."},
            "type": {**string, "enum": operators.types()},
            "name": {**string, "description": "Shown in the run history; defaults to the id."},
            "description": string,
            "settings": {"type": "object", "description": "The operator's settings (see the flow's description)."},
            "timeout": {"type": "number", "description": "Seconds the operator may take."},
            "continue_on_error": {"type": "boolean", "default": False},
            "meta": {"type": "object", "description": "Free-form (e.g. the node's place in an editor)."},
        },
    }
    edge = {
        "type": "object",
        "required": ["from", "to"],
        "properties": {
            "from": string,
            "to": string,
            "when": {**string, "enum": ["true", "false"], "description": "Only from condition nodes."},
            "meta": {"type": "object"},
        },
    }
    return {
        "type": "object",
        "description": FLOW_DESCRIPTION + _operators_description(),
        "properties": {
            "nodes": {"type": "array", "items": node},
            "edges": {"type": "array", "items": edge},
            "sample_input": {"description": "The input of automation/test when it is given none."},
            "time_limit": {"type": "number", "description": "Seconds a run may take in all."},
            "meta": {"type": "object"},
        },
        "example": {
            "nodes": [
                {"id": "check", "type": "condition", "settings": {"expression": "input.total > 100"}},
                {"id": "tag", "type": "transform", "settings": {"value": {"big": True, "total": "{{ input.total }}"}}},
            ],
            "edges": [{"from": "check", "to": "tag", "when": "true"}],
            "sample_input": {"total": 120},
        },
    }


@extend_schema_field(flow_schema())
class FlowField(serializers.JSONField):
    """A flow (see its schema)."""


class EventSerializer(serializers.Serializer):
    event = serializers.CharField()
    timestamp = serializers.DateTimeField(source="created_at")


class AutomationSummarySerializer(serializers.Serializer):
    """An automation as automations/get lists it."""

    isactive = serializers.BooleanField(source="is_active")
    automationid = serializers.UUIDField(source="id")
    name = serializers.CharField()
    description = serializers.CharField()
    trigger_url = serializers.SerializerMethodField()
    schedule = serializers.CharField()

    def get_trigger_url(self, automation: Automation) -> str:
        return trigger_url(self.context.get("request"), automation)


class AutomationSerializer(AutomationSummarySerializer):
    """An automation as automation/get shows it, with its latest events (`history`, newest first)."""

    history = serializers.SerializerMethodField()
    groupid = serializers.UUIDField(source="company_id")
    created = serializers.DateTimeField(source="created_at")
    modified = serializers.DateTimeField(source="updated_at")
    trigger_name = serializers.CharField()
    flow = FlowField()
    next_run = serializers.DateTimeField(source="next_run_at", allow_null=True)

    @extend_schema_field(EventSerializer(many=True))
    def get_history(self, automation: Automation) -> list[dict[str, Any]]:
        events: list[AutomationEvent] = self.context.get("events", [])
        return list(EventSerializer(events, many=True).data)


class OperatorEntrySerializer(serializers.Serializer):
    """One operator of a run: the spec's fields plus the input used, the output and the time taken."""

    node = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=["Success", "Failed"])
    explanation = serializers.CharField()
    result = serializers.CharField()
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    elapsed = serializers.FloatField(help_text="Seconds.")
    started = serializers.DateTimeField()


class RunSerializer(serializers.Serializer):
    """A run as automation/history shows it."""

    runid = serializers.UUIDField(source="id")
    automationid = serializers.UUIDField(source="automation_id")
    mode = serializers.ChoiceField(choices=AutomationRun.Mode.choices)
    started = serializers.DateTimeField(source="started_at")
    ended = serializers.DateTimeField(source="ended_at", allow_null=True)
    status = serializers.ChoiceField(choices=AutomationRun.Status.choices)
    explanation = serializers.CharField()
    input = serializers.JSONField()
    operator_history = OperatorEntrySerializer(many=True)


# --- input ----------------------------------------------------------------------------------------


class AutomationIdInputSerializer(serializers.Serializer):
    automationid = serializers.CharField(max_length=100)


class AutomationSaveInputSerializer(serializers.Serializer):
    automationid = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    isactive = serializers.BooleanField(required=False)
    flow = FlowField(required=False)
    trigger_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    schedule = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text="Cron, five fields, UTC; empty removes it."
    )


class AutomationTestInputSerializer(serializers.Serializer):
    automationid = serializers.CharField(max_length=100)
    input = serializers.JSONField(required=False, help_text="The run's input; default: the flow's sample_input.")


class AutomationHistoryInputSerializer(serializers.Serializer):
    automationid = serializers.CharField(max_length=100)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    pagesize = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class AutomationCloneInputSerializer(serializers.Serializer):
    automationid = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)


class AutomationsDeleteInputSerializer(serializers.Serializer):
    automations = serializers.ListField(child=serializers.CharField(max_length=100), allow_empty=False, max_length=1000)


class RunIdInputSerializer(serializers.Serializer):
    runid = serializers.CharField(max_length=100)
