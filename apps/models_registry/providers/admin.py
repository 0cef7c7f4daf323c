"""Admin for providers and users' keys: keys can be set, never read back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from apps.core.admin import CompanyScopedAdmin
from apps.core.crypto import encrypt_text
from apps.models_registry.providers.models import LLMProvider, UserLLMConfig
from apps.models_registry.providers.services import key_hint


class _KeyForm(forms.ModelForm):
    new_api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Set to replace the key (stored encrypted; it is never shown again).",
    )

    def save(self, commit: bool = True) -> Any:
        key = self.cleaned_data.get("new_api_key")
        if key:
            self.instance.api_key_encrypted = encrypt_text(key)
            self.instance.api_key_hint = key_hint(key)
        return super().save(commit)


class ProviderForm(_KeyForm):
    api_endpoint = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = LLMProvider
        fields = ("company", "name", "kind", "api_endpoint", "api_version", "allowed_roles", "is_active")


class UserLLMConfigForm(_KeyForm):
    def clean(self) -> Any:
        cleaned = super().clean() or {}
        if not self.instance.api_key_encrypted and not cleaned.get("new_api_key"):
            self.add_error("new_api_key", "A key is required.")
        return cleaned

    class Meta:
        model = UserLLMConfig
        fields = ("company", "user", "provider")


@admin.register(LLMProvider)
class LLMProviderAdmin(CompanyScopedAdmin):
    form = ProviderForm
    list_display = ("name", "kind", "api_endpoint", "api_key_hint", "is_active", "company")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "api_endpoint")
    readonly_fields = ("api_key_hint", "created_by", "created_at", "updated_at")


@admin.register(UserLLMConfig)
class UserLLMConfigAdmin(CompanyScopedAdmin):
    form = UserLLMConfigForm
    list_display = ("user", "provider", "api_key_hint", "company")
    readonly_fields = ("api_key_hint", "created_at", "updated_at")
