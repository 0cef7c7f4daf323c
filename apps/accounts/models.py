"""Companies (the API's "groups"), their users, key pairs, and what signing in needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower

from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, PLAN_CODES
from apps.core.models import CompanyOwnedModel, CompanyScopedQuerySet, UUIDModel


class CompanyQuerySet(models.QuerySet):
    """Companies are scoped like everything else: a company sees itself only."""

    def for_company(self, company: Company | None) -> CompanyQuerySet:
        if company is None:
            return self.none()
        return self.filter(pk=company.pk)


class Company(UUIDModel):
    """A tenant: everything else belongs to one."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    zip = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(max_length=300, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    bot_name = models.CharField(max_length=100, blank=True)
    bot_styles = models.JSONField(default=dict, blank=True)
    plan = models.CharField(max_length=40, choices=[(code, code) for code in PLAN_CODES], default="NONE")
    is_active = models.BooleanField(default=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "companies"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class UserQuerySet(CompanyScopedQuerySet):
    """Users of one company."""


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Creates users keyed by email (lower-cased)."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:  # type: ignore[override]
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_confirmed", True)
        return self._create_user(email, password, **extra)


def normalize_email(email: str) -> str:
    """Emails are unique regardless of case: stored lower-cased and stripped."""
    return email.strip().lower()


class User(UUIDModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in; belongs to one company (superusers may belong to none)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="users")
    email = models.EmailField(unique=True)
    fname = models.CharField("first name", max_length=150)
    lname = models.CharField("last name", max_length=150)
    roles = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField("active", default=True)
    is_staff = models.BooleanField("staff", default=False, help_text="May sign in to the Django admin.")
    email_confirmed = models.BooleanField(default=False)
    usemfa = models.BooleanField("MFA on", default=False)
    mfa_secret = models.TextField(blank=True, help_text="Encrypted TOTP secret.")
    mfa_pending_secret = models.TextField(blank=True, help_text="Encrypted secret awaiting its first code.")
    mfa_last_step = models.BigIntegerField(default=0, help_text="Last TOTP time step used, against replay.")
    # Bumped by logout/all: every token carries the generation it was issued under.
    token_generation = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["fname", "lname"]

    is_person = True

    class Meta:
        ordering = ("email",)
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(company__isnull=False) | models.Q(is_superuser=True),
                name="accounts_user_company_unless_superuser",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    @property
    def is_company_admin(self) -> bool:
        return COMPANY_ADMIN in (self.roles or [])

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """A Company Admin may do everything in their company."""
        held = set(self.roles or [])
        return COMPANY_ADMIN in held or bool(held.intersection(roles))

    def get_full_name(self) -> str:
        return f"{self.fname} {self.lname}".strip()

    def get_short_name(self) -> str:
        return self.fname


class CompanyPrincipal:
    """Who a request is when it authenticates with the company's key pair: the company, as its admin."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_person = False
    is_staff = False
    is_superuser = False
    is_company_admin = True
    pk = None
    id = None
    email = ""
    roles: ClassVar[list[str]] = [COMPANY_ADMIN]

    def __init__(self, company: Company, key_pair: ApiKeyPair) -> None:
        self.company = company
        self.key_pair = key_pair

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return True

    def __str__(self) -> str:
        return f"key pair of {self.company}"


class ApiKeyPair(CompanyOwnedModel):
    """The company's API key and Enc key, stored as keyed digests; one pair per company."""

    prefix = models.CharField(max_length=16, unique=True, help_text="The API key's public start, for lookup.")
    api_key_digest = models.CharField(max_length=64)
    enc_key_digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company"], name="accounts_one_key_pair_per_company")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.company_id})"


class RevokedToken(models.Model):
    """An access token ended by logout before it expired."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.jti


class EmailConfirmation(UUIDModel):
    """The code that confirms a user's email address (stored as a digest)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="email_confirmation")
    code_digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"confirmation for {self.user_id}"


__all__ = ["ALL_ROLES", "ApiKeyPair", "Company", "CompanyPrincipal", "EmailConfirmation", "RevokedToken", "User"]
