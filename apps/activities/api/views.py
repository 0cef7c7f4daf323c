"""Activities and Activity endpoints of the toolbox API."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import ACTIVITY_MANAGER, COMPANY_ADMIN
from apps.activities import selectors, services
from apps.activities.api import serializers as s
from apps.core.api.responses import ok
from apps.core.api.schema import MessageEnvelopeSerializer, envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView

TAGS = ["Activities"]
ROLES = (COMPANY_ADMIN, ACTIVITY_MANAGER)

SavedEnvelope = envelope("ActivitySavedResponse", message=serializers.CharField(), activityid=serializers.UUIDField())


class ActivitiesListView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="List activities, optionally only active (isactive=true) or inactive ones",
        tags=TAGS,
        request=None,
        parameters=[s.ActivitiesListInputSerializer],
        response=envelope("ActivitiesResponse", activities=s.ActivitySerializer(many=True)),
        errors=(400, 401, 403),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.ActivitiesListInputSerializer)
        activities = selectors.activity_list(company=self.company, is_active=data["isactive"])
        return ok(activities=s.ActivitySerializer(activities, many=True).data)


class ActivitiesDeleteView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Delete activities",
        description="All or nothing: an unknown id (or another group's) deletes none and answers 404.",
        tags=TAGS,
        request=s.ActivitiesDeleteInputSerializer,
        response=MessageEnvelopeSerializer,
        errors=(400, 401, 403, 404),
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.ActivitiesDeleteInputSerializer, list_fields=("activities",))
        services.activities_delete(company=self.company, actor=request.user, activity_ids=data["activities"])
        return ok(message="Activities deleted successfully.")


class ActivityGetView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Get an activity",
        tags=TAGS,
        request=None,
        parameters=[s.ActivityIdInputSerializer],
        response=envelope("ActivityResponse", activity=s.ActivitySerializer()),
        errors=(400, 401, 403, 404),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.ActivityIdInputSerializer)
        activity = selectors.activity_get(company=self.company, activity_id=data["activityid"])
        return ok(activity=s.ActivitySerializer(activity).data)


class ActivitySaveView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Create an activity, or update one (with activityid)",
        description=(
            "Fields left out of an update keep their value. `modelid` is the id of a model of your group. "
            "Activating beyond your plan's limit of active activities answers 400."
        ),
        tags=TAGS,
        request=s.ActivitySaveInputSerializer,
        response=SavedEnvelope,
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ActivitySaveInputSerializer)
        activity = services.activity_save(
            company=self.company,
            actor=request.user,
            activity_id=data.get("activityid") or None,
            name=data["name"],
            model_id=data["modelid"],
            description=data.get("description"),
            prompt=data.get("prompt"),
            is_active=data.get("isactive"),
        )
        return ok(message="Activity saved successfully.", activityid=str(activity.pk))


class ActivityCloneView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Clone an activity under a new name",
        description="The clone has a new id and name and every other setting of the original.",
        tags=TAGS,
        request=s.ActivityCloneInputSerializer,
        response=SavedEnvelope,
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ActivityCloneInputSerializer)
        clone = services.activity_clone(
            company=self.company, actor=request.user, activity_id=data["activityid"], name=data["name"]
        )
        return ok(message="Activity cloned successfully.", activityid=str(clone.pk))
