"""Factories for actors."""

from __future__ import annotations

import factory

from apps.actors.models import Actor


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Actor {n}")
    description = "A helpful guide."
    prompt = "Answer briefly."
    is_active = True
    personas = factory.LazyFunction(lambda: [{"name": "Pirate", "prompt": "Talk like a pirate."}])
