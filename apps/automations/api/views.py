"""Automation and Automations endpoints of the toolbox API, and the public trigger URL."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.roles import AUTOMATION_MANAGER, COMPANY_ADMIN
from apps.automations import selectors
from apps.automations.api import serializers as s
from apps.automations.services import automations, runs
from apps.core.api.responses import ok
from apps.core.api.schema import ErrorEnvelopeSerializer, MessageEnvelopeSerializer, envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView, PublicAPIView

TAGS = ["Automations"]
ROLES = (COMPANY_ADMIN, AUTOMATION_MANAGER)

SavedEnvelope = envelope(
    "AutomationSavedResponse", message=serializers.CharField(), automationid=serializers.UUIDField()
)
RunStartedEnvelope = envelope(
    "AutomationRunStartedResponse", message=serializers.CharField(), runid=serializers.UUIDField()
)


class AutomationGetView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Get an automation with its flow, trigger URL and latest events",
        description="`history` lists the automation's latest events, newest first: changes and run summaries.",
        tags=TAGS,
        request=None,
        parameters=[s.AutomationIdInputSerializer],
        response=envelope("AutomationResponse", automation=s.AutomationSerializer()),
        errors=(400, 401, 403, 404),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.AutomationIdInputSerializer)
        automation = selectors.automation_get(company=self.company, automation_id=data["automationid"])
        events = selectors.automation_events(company=self.company, automation=automation)
        return ok(automation=s.AutomationSerializer(automation, context={"request": request, "events": events}).data)


class AutomationSaveView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Create an automation, or update one (with automationid)",
        description=(
            "Fields left out of an update keep their value. The flow is checked: an unknown operator, an edge to "
            "an unknown node, a cycle or a missing setting answers 400 naming the node. `schedule` is a cron "
            "expression (UTC) that starts runs while the automation is active."
        ),
        tags=TAGS,
        request=s.AutomationSaveInputSerializer,
        response=SavedEnvelope,
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.AutomationSaveInputSerializer)
        automation = automations.automation_save(
            company=self.company,
            actor=request.user,
            automation_id=data.get("automationid") or None,
            name=data["name"],
            description=data.get("description"),
            is_active=data.get("isactive"),
            flow=data.get("flow"),
            trigger_name=data.get("trigger_name"),
            schedule=data.get("schedule"),
        )
        return ok(message="Automation saved successfully.", automationid=str(automation.pk))


class AutomationTestView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Start a test run (returns at once)",
        description=(
            "The run is marked as a test and uses `input`, or the flow's `sample_input`. Follow it with "
            "automation/run/get or automation/history. Inactive automations may be tested."
        ),
        tags=TAGS,
        request=s.AutomationTestInputSerializer,
        response=RunStartedEnvelope,
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.AutomationTestInputSerializer)
        run = runs.automation_test(
            company=self.company, actor=request.user, automation_id=data["automationid"], input=data.get("input")
        )
        return ok(message="Automation test submitted successfully.", runid=str(run.pk))


class AutomationHistoryView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="An automation's runs, newest first, a page at a time",
        description=(
            "Each run has its mode (test, trigger, schedule) and, for each operator, its input, output and time."
        ),
        tags=TAGS,
        request=None,
        parameters=[s.AutomationHistoryInputSerializer],
        response=envelope(
            "AutomationHistoryResponse",
            history=s.RunSerializer(many=True),
            page=serializers.IntegerField(),
            pagesize=serializers.IntegerField(),
            total=serializers.IntegerField(),
        ),
        errors=(400, 401, 403, 404),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.AutomationHistoryInputSerializer)
        page, total = selectors.run_page(
            company=self.company, automation_id=data["automationid"], page=data["page"], page_size=data["pagesize"]
        )
        return ok(
            history=s.RunSerializer(page, many=True).data, page=data["page"], pagesize=data["pagesize"], total=total
        )


class AutomationCloneView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Clone an automation under a new name",
        description="The clone has a new id, name and trigger URL and every other setting of the original.",
        tags=TAGS,
        request=s.AutomationCloneInputSerializer,
        response=SavedEnvelope,
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.AutomationCloneInputSerializer)
        clone = automations.automation_clone(
            company=self.company, actor=request.user, automation_id=data["automationid"], name=data["name"]
        )
        return ok(message="Automation cloned successfully.", automationid=str(clone.pk))


class AutomationTriggerRotateView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Give an automation a new trigger URL (the old one stops working)",
        tags=TAGS,
        request=s.AutomationIdInputSerializer,
        response=envelope(
            "AutomationTriggerResponse", message=serializers.CharField(), trigger_url=serializers.URLField()
        ),
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.AutomationIdInputSerializer)
        automation = automations.automation_trigger_rotate(
            company=self.company, actor=request.user, automation_id=data["automationid"]
        )
        return ok(message="Trigger URL rotated successfully.", trigger_url=s.trigger_url(request, automation))


class AutomationRunGetView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="One run, as automation/history shows it",
        tags=TAGS,
        request=None,
        parameters=[s.RunIdInputSerializer],
        response=envelope("AutomationRunResponse", run=s.RunSerializer()),
        errors=(400, 401, 403, 404),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.RunIdInputSerializer)
        return ok(run=s.RunSerializer(selectors.run_get(company=self.company, run_id=data["runid"])).data)


class AutomationRunCancelView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Cancel a running run",
        description="The run's worker stops before its next operator. A run that has ended answers 409.",
        tags=TAGS,
        request=s.RunIdInputSerializer,
        response=MessageEnvelopeSerializer,
        errors=(400, 401, 403, 404, 409),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.RunIdInputSerializer)
        runs.run_cancel(company=self.company, actor=request.user, run_id=data["runid"])
        return ok(message="Run cancelled successfully.")


class AutomationsListView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="List automations",
        tags=TAGS,
        request=None,
        response=envelope("AutomationsResponse", automations=s.AutomationSummarySerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        items = selectors.automation_list(company=self.company)
        return ok(automations=s.AutomationSummarySerializer(items, many=True, context={"request": request}).data)


class AutomationsDeleteView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Delete automations with their runs",
        description="All or nothing: an unknown id (or another group's) deletes none and answers 404.",
        tags=TAGS,
        request=s.AutomationsDeleteInputSerializer,
        response=MessageEnvelopeSerializer,
        errors=(400, 401, 403, 404),
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.AutomationsDeleteInputSerializer, list_fields=("automations",))
        automations.automations_delete(company=self.company, actor=request.user, automation_ids=data["automations"])
        return ok(message="Automations deleted successfully.")


class TriggerThrottle(SimpleRateThrottle):
    """Requests per trigger URL (AUTOMATION_TRIGGER_RATE, e.g. "600/min"; empty: no limit), counted in the cache."""

    def get_rate(self) -> str | None:
        return settings.AUTOMATION_TRIGGER_RATE or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        secret = view.kwargs.get("secret", "")
        return f"automation-trigger:{automations.trigger_digest(secret)}" if secret else None


class TriggerView(PublicAPIView):
    """The secret trigger URL: the secret is the credential."""

    throttle_classes = [TriggerThrottle]

    @extend_schema(
        summary="Start a run through an automation's trigger URL",
        description=(
            "The JSON body (any JSON value; empty: `{}`) becomes the run's `input`. Answers 202 with the run id "
            "at once. An inactive automation answers 409; an unknown or rotated URL 404; more requests than "
            "AUTOMATION_TRIGGER_RATE to one URL answer 429 with Retry-After."
        ),
        tags=TAGS,
        request={"application/json": {"description": "The run's input."}},
        responses={
            202: RunStartedEnvelope,
            404: OpenApiResponse(ErrorEnvelopeSerializer, description="Unknown trigger URL."),
            409: OpenApiResponse(ErrorEnvelopeSerializer, description="The automation is not active."),
            429: OpenApiResponse(ErrorEnvelopeSerializer, description="Too many requests to this trigger URL."),
        },
        auth=[],
    )
    def post(self, request: Request, secret: str) -> Response:
        payload: Any = request.data
        if hasattr(payload, "dict"):  # a form body
            payload = payload.dict()
        run = runs.automation_trigger(secret=secret, payload=payload)
        return ok(202, message="Automation run started.", runid=str(run.pk))
