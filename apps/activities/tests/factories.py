"""Factories for activities."""

from __future__ import annotations

import factory

from apps.activities.models import Activity
from apps.models_registry.tests.factories import AIModelFactory


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    name = factory.Sequence(lambda n: f"Activity {n}")
    description = "Greets visitors."
    prompt = "Greet the visitor."
    is_active = False
    model_id = factory.LazyAttribute(lambda activity: AIModelFactory(company=activity.company).pk)
