"""Factories for activities."""

from __future__ import annotations

import uuid

import factory

from apps.activities.models import Activity


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    name = factory.Sequence(lambda n: f"Activity {n}")
    description = "Greets visitors."
    prompt = "Greet the visitor."
    is_active = False
    model_id = factory.LazyFunction(uuid.uuid4)
