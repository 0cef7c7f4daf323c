"""Actor and Actors endpoints of the toolbox API."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import ACTOR_MANAGER, COMPANY_ADMIN
from apps.actors import selectors, services
from apps.actors.api import serializers as s
from apps.core.api.responses import ok
from apps.core.api.schema import MessageEnvelopeSerializer, envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView

TAGS = ["Actors"]
ROLES = (COMPANY_ADMIN, ACTOR_MANAGER)


class ActorGetView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Get an actor",
        tags=TAGS,
        request=None,
        parameters=[s.ActorIdInputSerializer],
        response=envelope("ActorResponse", actor=s.ActorSerializer()),
        errors=(400, 401, 403, 404),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.ActorIdInputSerializer)
        return ok(actor=s.ActorSerializer(selectors.actor_get(company=self.company, actor_id=data["actorid"])).data)


class ActorSaveView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Create an actor, or update one (with actorid)",
        description=(
            'Fields left out of an update keep their value. Each persona is a name, or `{"name", "prompt"}` '
            "for a persona with a prompt of its own; names are unique within the actor."
        ),
        tags=TAGS,
        request=s.ActorSaveInputSerializer,
        response=envelope("ActorSavedResponse", message=serializers.CharField(), actorid=serializers.UUIDField()),
        errors=(400, 401, 403, 404),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ActorSaveInputSerializer)
        record = services.actor_save(
            company=self.company,
            actor=request.user,
            actor_id=data.get("actorid") or None,
            name=data["name"],
            description=data.get("description"),
            prompt=data.get("prompt"),
            is_active=data.get("isactive"),
            personas=data.get("personas"),
        )
        return ok(message="Actor saved successfully.", actorid=str(record.pk))


class ActorsListView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="List actors, optionally only active (isactive=true) or inactive ones",
        tags=TAGS,
        request=None,
        parameters=[s.ActorsListInputSerializer],
        response=envelope("ActorsResponse", actors=s.ActorSerializer(many=True)),
        errors=(400, 401, 403),
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.ActorsListInputSerializer)
        actors = selectors.actor_list(company=self.company, is_active=data["isactive"])
        return ok(actors=s.ActorSerializer(actors, many=True).data)


class ActorsDeleteView(CompanyAPIView):
    required_roles = ROLES

    @toolbox_schema(
        summary="Delete actors",
        description="All or nothing: an unknown id (or another group's) deletes none and answers 404.",
        tags=TAGS,
        request=s.ActorsDeleteInputSerializer,
        response=MessageEnvelopeSerializer,
        errors=(400, 401, 403, 404),
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.ActorsDeleteInputSerializer, list_fields=("actors",))
        services.actors_delete(company=self.company, actor=request.user, actor_ids=data["actors"])
        return ok(message="Actors deleted successfully.")
