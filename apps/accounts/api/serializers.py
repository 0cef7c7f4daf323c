"""Input and output shapes of the accounts endpoints."""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers

from apps.accounts.models import Company, User
from apps.accounts.roles import ALL_ROLES

# --- output -------------------------------------------------------------------------------


class BotSerializer(serializers.Serializer):
    name = serializers.CharField()


class GroupSerializer(serializers.Serializer):
    """A company as the API shows it (a "group")."""

    groupid = serializers.UUIDField(source="id")
    name = serializers.CharField()
    description = serializers.CharField()
    address1 = serializers.CharField()
    address2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    website = serializers.CharField()
    industry = serializers.CharField()
    plan = serializers.CharField()
    bot = serializers.SerializerMethodField()
    bot_styles = serializers.JSONField()

    def get_bot(self, company: Company) -> dict[str, str]:
        return {"name": company.bot_name}


class LoginUserSerializer(serializers.Serializer):
    """The `user` block of login answers."""

    groupid = serializers.UUIDField(source="company_id")
    userid = serializers.UUIDField(source="id")
    email = serializers.EmailField()


class MeSerializer(serializers.Serializer):
    """users/me: the caller, with roles and group."""

    userid = serializers.UUIDField(source="id")
    email = serializers.EmailField()
    fname = serializers.CharField()
    lname = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    groupid = serializers.UUIDField(source="company_id")
    isactive = serializers.BooleanField(source="is_active")
    usemfa = serializers.BooleanField()
    emailconfirmed = serializers.BooleanField(source="email_confirmed")
    lastlogin = serializers.DateTimeField(source="last_login", allow_null=True)


class MemberSerializer(serializers.Serializer):
    """A user as chats/group/get lists them."""

    userid = serializers.UUIDField(source="id")
    email = serializers.EmailField()
    fname = serializers.CharField()
    lname = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    isactive = serializers.BooleanField(source="is_active")
    usemfa = serializers.BooleanField()
    emailconfirmed = serializers.BooleanField(source="email_confirmed")


class SignupUserSerializer(serializers.Serializer):
    userid = serializers.UUIDField(source="id")
    fname = serializers.CharField()
    lname = serializers.CharField()
    email = serializers.EmailField()


def group_data(company: Company) -> dict[str, Any]:
    return dict(GroupSerializer(company).data)


def login_user_data(user: User) -> dict[str, Any]:
    return dict(LoginUserSerializer(user).data)


# --- input ----------------------------------------------------------------------------------


class LoginInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    mfacode = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=16)


class SignupInputSerializer(serializers.Serializer):
    fname = serializers.CharField(max_length=150)
    lname = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254)
    password1 = serializers.CharField(max_length=512, trim_whitespace=False)
    password2 = serializers.CharField(max_length=512, trim_whitespace=False)


class EmailInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class ConfirmInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    code = serializers.CharField(max_length=16)


class MfaCodeInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=16)


class PasswordUpdateInputSerializer(serializers.Serializer):
    currentPassword = serializers.CharField(max_length=512, trim_whitespace=False)
    password1 = serializers.CharField(max_length=512, trim_whitespace=False)
    password2 = serializers.CharField(max_length=512, trim_whitespace=False)


# users/save takes the company's fields as dotted keys ("group.name"); the model field each one sets.
GROUP_INPUT_FIELDS: dict[str, tuple[str, serializers.Field]] = {
    "group.name": ("name", serializers.CharField(max_length=200, required=False)),
    "group.description": ("description", serializers.CharField(required=False, allow_blank=True)),
    "group.bot.name": ("bot_name", serializers.CharField(max_length=100, required=False, allow_blank=True)),
    "group.bot_styles": ("bot_styles", serializers.DictField(required=False)),
    "group.address1": ("address1", serializers.CharField(max_length=200, required=False, allow_blank=True)),
    "group.address2": ("address2", serializers.CharField(max_length=200, required=False, allow_blank=True)),
    "group.city": ("city", serializers.CharField(max_length=100, required=False, allow_blank=True)),
    "group.state": ("state", serializers.CharField(max_length=100, required=False, allow_blank=True)),
    "group.zip": ("zip", serializers.CharField(max_length=20, required=False, allow_blank=True)),
    "group.country": ("country", serializers.CharField(max_length=100, required=False, allow_blank=True)),
    "group.phone": ("phone", serializers.CharField(max_length=50, required=False, allow_blank=True)),
    "group.email": ("email", serializers.EmailField(required=False, allow_blank=True)),
    "group.website": ("website", serializers.URLField(max_length=300, required=False, allow_blank=True)),
    "group.industry": ("industry", serializers.CharField(max_length=100, required=False, allow_blank=True)),
}


def flatten_group(data: dict[str, Any]) -> dict[str, Any]:
    """Accept `{"group": {"name": ..., "bot": {"name": ...}}}` as well as the spec's dotted keys."""
    nested = data.pop("group", None)
    if isinstance(nested, dict):
        bot = nested.pop("bot", None)
        if isinstance(bot, dict) and "name" in bot:
            data.setdefault("group.bot.name", bot["name"])
        for key, value in nested.items():
            data.setdefault(f"group.{key}", value)
    elif nested is not None:
        data["group"] = nested  # left for validation to refuse
    return data


class ProfileInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    fname = serializers.CharField(max_length=150)
    lname = serializers.CharField(max_length=150)
    usemfa = serializers.BooleanField(required=False, allow_null=True, default=None)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for key, (_, field) in GROUP_INPUT_FIELDS.items():
            fields[key] = copy.deepcopy(field)
        return fields

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and "group" in data:
            raise serializers.ValidationError({"group": ["Send group fields as `group.<field>` keys or an object."]})
        return super().to_internal_value(data)

    def group_fields(self) -> dict[str, Any]:
        """The company fields sent, by model field name (DRF nests dotted names: {"group": {"bot": {...}}})."""
        sent: dict[str, Any] = {}
        for key, (model_field, _) in GROUP_INPUT_FIELDS.items():
            value: Any = self.validated_data
            for part in key.split("."):
                if not isinstance(value, dict) or part not in value:
                    break
                value = value[part]
            else:
                sent[model_field] = value
        return sent


class MemberSaveInputSerializer(serializers.Serializer):
    userid = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    email = serializers.CharField(max_length=254)
    fname = serializers.CharField(max_length=150)
    lname = serializers.CharField(max_length=150)
    password = serializers.CharField(required=False, allow_blank=True, max_length=512, trim_whitespace=False)
    password2 = serializers.CharField(required=False, allow_blank=True, max_length=512, trim_whitespace=False)
    roles = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True, help_text=f"Any of: {', '.join(ALL_ROLES)}."
    )
    isactive = serializers.BooleanField(required=False, allow_null=True, default=None)
    usemfa = serializers.BooleanField(required=False, allow_null=True, default=None)


class MembersDeleteInputSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(), allow_empty=False)
