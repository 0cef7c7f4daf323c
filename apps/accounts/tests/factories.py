"""Factories for companies and users."""

from __future__ import annotations

import factory

from apps.accounts.models import Company, User
from apps.accounts.roles import USER
from apps.core.testing import PASSWORD


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    email = factory.Sequence(lambda n: f"office{n}@example.com")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    fname = "Ada"
    lname = "Lovelace"
    roles = factory.LazyFunction(lambda: [USER])
    email_confirmed = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
