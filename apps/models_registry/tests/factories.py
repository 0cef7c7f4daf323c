"""Factories for models, intents, slots and vocabulary."""

from __future__ import annotations

import factory

from apps.models_registry.models import AIModel, Algorithm, Intent, Slot, VocabularyEntry


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    name = factory.Sequence(lambda n: f"Model {n}")
    algorithm = Algorithm.NATURAL_BAYES


class IntentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intent

    model = factory.SubFactory(AIModelFactory)
    company = factory.SelfAttribute("model.company")
    name = factory.Sequence(lambda n: f"intent{n}")


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    model = factory.SubFactory(AIModelFactory)
    company = factory.SelfAttribute("model.company")
    name = factory.Sequence(lambda n: f"slot{n}")
    intent = "greeting"


class VocabularyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VocabularyEntry

    model = factory.SubFactory(AIModelFactory)
    company = factory.SelfAttribute("model.company")
    term = factory.Sequence(lambda n: f"term{n}")
    definition = "a definition"
