"""Admin for companies, users and key pairs, scoped to the staff member's company."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import ApiKeyPair, Company, User
from apps.accounts.roles import ALL_ROLES
from apps.core.admin import CompanyScopedAdmin


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdmin):
    company_field = ""
    list_display = ("name", "plan", "email", "industry", "is_active", "created_at")
    list_filter = ("plan", "is_active")
    search_fields = ("name", "email")
    readonly_fields = ("id", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The plan changes through billing (membership, or the operator's grant in Billing > Company plans),
        # which keeps the membership's period and renewals in step. Activation is the operator's.
        readonly = (*super().get_readonly_fields(request, obj), "plan")
        return readonly if self._is_global(request) else (*readonly, "is_active")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_global(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_global(request)


def _roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=[(r, r) for r in ALL_ROLES], widget=forms.CheckboxSelectMultiple, required=False
    )


class UserChangeForm(auth_forms.UserChangeForm):
    """The password shows as its hash summary with a link to Django's change-password form."""

    roles = _roles_field()

    class Meta:
        model = User
        fields = (
            "company",
            "email",
            "password",
            "fname",
            "lname",
            "roles",
            "email_confirmed",
            "usemfa",
            "is_active",
            "is_staff",
            "is_superuser",
        )


class UserCreationForm(auth_forms.BaseUserCreationForm):
    roles = _roles_field()

    class Meta:
        model = User
        fields = ("company", "email", "fname", "lname", "roles")


@admin.register(User)
class UserAdmin(CompanyScopedAdmin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "fname", "lname", "company", "is_active", "is_staff", "usemfa")
    list_filter = ("is_active", "is_staff", "usemfa", "company")
    search_fields = ("email", "fname", "lname")
    readonly_fields = ("id", "last_login", "created_at", "updated_at", "token_generation")
    fieldsets = (
        (None, {"fields": ("id", "company", "email", "password")}),
        ("Profile", {"fields": ("fname", "lname", "roles", "email_confirmed", "usemfa")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "token_generation", "last_login")}),
        ("Times", {"fields": ("created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"fields": ("company", "email", "fname", "lname", "roles", "password1", "password2")}),)
    filter_horizontal = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not self._is_global(request):
            readonly += ("is_superuser", "usemfa")
        return readonly

    def scope(self, queryset: QuerySet, company: Any) -> QuerySet:
        # Operator accounts are never a company's to see or change, even when they belong to one.
        return super().scope(queryset, company).filter(is_superuser=False)

    def get_list_filter(self, request: HttpRequest) -> Any:
        return self.list_filter if self._is_global(request) else ("is_active", "is_staff", "usemfa")


@admin.register(ApiKeyPair)
class ApiKeyPairAdmin(CompanyScopedAdmin):
    """Keys are listed for audit; they are made and renewed through the API (shown once)."""

    list_display = ("prefix", "company", "created_by", "created_at", "last_used_at")
    readonly_fields = ("prefix", "company", "created_by", "created_at", "last_used_at")
    exclude = ("api_key_digest", "enc_key_digest")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
