"""Companies and their people: signup, confirmation, profiles, members, passwords."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Company, EmailConfirmation, User, normalize_email
from apps.accounts.roles import ALL_ROLES, COMPANY_ADMIN, PLAN_CODES, USER
from apps.accounts.services.auth import mfa_disable, token_issue_for_user
from apps.accounts.tasks import send_confirmation_email
from apps.core.crypto import digest, digests_match
from apps.core.exceptions import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied, RateLimited
from apps.core.ids import parse_uuid, rows_with_ids
from apps.core.limits import USERS, check_limit

COMPANY_FIELDS = (
    "name",
    "description",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "email",
    "website",
    "industry",
    "bot_name",
    "bot_styles",
)
EMAIL_IN_USE = "Email address already in use."


# --- companies ------------------------------------------------------------------------------


def company_create(*, name: str, plan: str = "NONE", **fields: Any) -> Company:
    """A new company (tenant)."""
    if not name or not name.strip():
        raise InvalidInput("Missing name.")
    if plan not in PLAN_CODES:
        raise InvalidInput(f"Invalid plan: {plan!r}. Valid plans: {', '.join(PLAN_CODES)}.")
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown company fields: {', '.join(sorted(unknown))}.")
    return Company.objects.create(name=name.strip(), plan=plan, **fields)


def company_plan_set(*, company: Company, plan: str) -> Company:
    """Put the company on a plan (billing decides when; this only records it)."""
    if plan not in PLAN_CODES:
        raise InvalidInput(f"Invalid plan: {plan!r}. Valid plans: {', '.join(PLAN_CODES)}.")
    if company.plan != plan:
        company.plan = plan
        company.save(update_fields=["plan", "updated_at"])
    return company


def company_update(*, company: Company, fields: dict[str, Any]) -> Company:
    """Change the company's profile fields."""
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown company fields: {', '.join(sorted(unknown))}.")
    if "name" in fields and not str(fields["name"]).strip():
        raise InvalidInput("Invalid group.name: it may not be blank.")
    for field, value in fields.items():
        setattr(company, field, value)
    company.save()
    return company


# --- validation helpers --------------------------------------------------------------------------


def roles_validate(roles: Iterable[str]) -> list[str]:
    """Roles must be among the documented ones; the error lists them."""
    roles = list(dict.fromkeys(roles))
    invalid = [role for role in roles if role not in ALL_ROLES]
    if invalid:
        raise InvalidInput(
            f"Invalid roles: {', '.join(repr(r) for r in invalid)}. Valid roles: {', '.join(ALL_ROLES)}."
        )
    return roles


def email_validate(email: str, *, exclude_user: User | None = None) -> str:
    email = normalize_email(email or "")
    if not email:
        raise InvalidInput("Missing email.")
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise InvalidInput("Invalid email address.") from exc
    taken = User.objects.filter(email=email)
    if exclude_user is not None:
        taken = taken.exclude(pk=exclude_user.pk)
    if taken.exists():
        raise Conflict(EMAIL_IN_USE)
    return email


def password_validate(password1: str, password2: str | None, *, user: User | None = None) -> str:
    if not password1:
        raise InvalidInput("Missing password.")
    if password2 is not None and password1 != password2:
        raise InvalidInput("Passwords do not match.")
    try:
        validate_password(password1, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput(f"Invalid password: {' '.join(exc.messages)}") from exc
    return password1


def user_save(user: User) -> None:
    """Save, turning a unique-email race into the same answer as the pre-check."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(EMAIL_IN_USE) from exc


# --- signup and email confirmation -----------------------------------------------------------------


def signup(*, fname: str, lname: str, email: str, password1: str, password2: str) -> tuple[User, str]:
    """A new company with this person as its Company Admin; returns the user and a token, emails a code."""
    email = email_validate(email)
    if not fname.strip() or not lname.strip():
        raise InvalidInput("Missing fname." if not fname.strip() else "Missing lname.")
    probe = User(email=email, fname=fname, lname=lname)
    password_validate(password1, password2, user=probe)
    with transaction.atomic():
        company = company_create(name=f"{fname.strip()} {lname.strip()}", email=email)
        user = User(company=company, email=email, fname=fname.strip(), lname=lname.strip(), roles=[COMPANY_ADMIN])
        user.set_password(password1)
        user_save(user)
        confirmation_send(user=user)
    return user, token_issue_for_user(user=user)


def confirmation_send(*, user: User) -> None:
    """Make a fresh code for the user and email it (through a job, after the transaction commits)."""
    code = f"{secrets.randbelow(10**6):06d}"
    EmailConfirmation.objects.update_or_create(
        user=user,
        defaults={
            "code_digest": digest(code, purpose=f"confirm:{user.pk}"),
            "expires_at": timezone.now() + timedelta(hours=settings.CONFIRMATION_CODE_HOURS),
            "attempts": 0,
        },
    )
    email = user.email
    transaction.on_commit(lambda: send_confirmation_email.delay(email=email, code=code))


def confirmation_resend(*, email: str) -> None:
    """Send a new code. Unknown or already confirmed addresses get the same answer and no mail."""
    email = normalize_email(email or "")
    if not email:
        raise InvalidInput("Missing email.")
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None or user.email_confirmed:
        return
    existing = EmailConfirmation.objects.filter(user=user).first()
    if existing is not None:
        sent_at = existing.updated_at
        wait = settings.CONFIRMATION_RESEND_SECONDS - (timezone.now() - sent_at).total_seconds()
        if wait > 0:
            raise RateLimited("A code was sent moments ago. Wait before asking again.", retry_after=int(wait) + 1)
    with transaction.atomic():
        confirmation_send(user=user)


def confirmation_confirm(*, email: str, code: str) -> User:
    """Confirm the address with the emailed code; a few wrong tries spend the code."""
    email = normalize_email(email or "")
    invalid = "Invalid or expired confirmation code."
    user = User.objects.filter(email=email).first()
    if user is None:
        raise InvalidInput(invalid)
    if user.email_confirmed:
        return user
    pending = EmailConfirmation.objects.filter(user=user).first()
    if pending is None or pending.expires_at < timezone.now():
        raise InvalidInput(invalid)
    # Count the try before checking, atomically, so parallel guesses cannot exceed the limit.
    counted = EmailConfirmation.objects.filter(pk=pending.pk, attempts__lt=settings.CONFIRMATION_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    if not counted:
        raise InvalidInput("Too many wrong codes. Ask for a new one with confirmation/resend.")
    if not digests_match(pending.code_digest, digest((code or "").strip(), purpose=f"confirm:{user.pk}")):
        raise InvalidInput(invalid)
    with transaction.atomic():
        pending.delete()
        user.email_confirmed = True
        user.save(update_fields=["email_confirmed", "updated_at"])
    return user


# --- own profile and password ------------------------------------------------------------------------


def profile_update(
    *, user: User, email: str, fname: str, lname: str, usemfa: bool | None, group: dict[str, Any]
) -> User:
    """users/save: the caller's own profile, and the company's when they are its Company Admin."""
    if group and not user.is_company_admin:
        raise PermissionDenied("Only a Company Admin may change the group's settings.")
    new_email = email_validate(email, exclude_user=user)
    if not fname.strip():
        raise InvalidInput("Missing fname.")
    if not lname.strip():
        raise InvalidInput("Missing lname.")
    if usemfa and not user.usemfa:
        raise InvalidInput("Turn MFA on with users/mfa/setup and users/mfa/verify.")
    with transaction.atomic():
        email_changed = new_email != user.email
        user.email, user.fname, user.lname = new_email, fname.strip(), lname.strip()
        if email_changed:
            user.email_confirmed = False
        user_save(user)
        if usemfa is False and user.usemfa:
            mfa_disable(user=user)
        if email_changed:
            confirmation_send(user=user)
        if group and user.company is not None:
            company_update(company=user.company, fields=group)
    return user


def password_update(*, user: User, current: str, password1: str, password2: str) -> str:
    """Change the caller's password after checking the current one; other tokens end, a fresh one returns."""
    if not user.check_password(current or ""):
        raise NotAuthenticated("Login failed.")
    password_validate(password1, password2, user=user)
    user.set_password(password1)
    user.token_generation += 1
    user.save(update_fields=["password", "token_generation", "updated_at"])
    return token_issue_for_user(user=user)


# --- the company's members (chats/group/...) -----------------------------------------------------------


def _guard_admin_rows(*, actor: Any, target_roles: Iterable[str]) -> None:
    """Only a Company Admin may grant the Company Admin role or touch a Company Admin."""
    if COMPANY_ADMIN in target_roles and not actor.is_company_admin:
        raise PermissionDenied("Only a Company Admin may manage Company Admins.")


def _members(company: Company) -> Any:
    """The company's users that its admins manage: operator (superuser) accounts are not among them."""
    return User.objects.for_company(company).filter(is_superuser=False)


def member_save(
    *,
    company: Company,
    actor: Any,
    email: str,
    fname: str,
    lname: str,
    userid: str | None = None,
    password: str | None = None,
    password2: str | None = None,
    roles: list[str] | None = None,
    isactive: bool | None = None,
    usemfa: bool | None = None,
) -> User:
    """Create a user in the company, or update one of its users."""
    if userid:
        user_pk = parse_uuid(userid)
        user = _members(company).filter(pk=user_pk).first() if user_pk else None
        if user is None:
            raise NotFound("User not found.")
        _guard_admin_rows(actor=actor, target_roles=user.roles)
    else:
        user = User(company=company, roles=[USER], is_active=False)
        if not password:
            raise InvalidInput("Missing password.")
    was_active = user.is_active
    if isactive is None and user._state.adding:
        isactive = True
    if roles is not None:
        roles = roles_validate(roles)
        _guard_admin_rows(actor=actor, target_roles=roles)
    if not fname.strip():
        raise InvalidInput("Missing fname.")
    if not lname.strip():
        raise InvalidInput("Missing lname.")
    user.email = email_validate(email, exclude_user=user)
    user.fname, user.lname = fname.strip(), lname.strip()
    if password:
        password_validate(password, password2, user=user)
        user.set_password(password)
        user.token_generation += 1
    if roles is not None:
        if getattr(actor, "pk", None) == user.pk and user.is_company_admin and COMPANY_ADMIN not in roles:
            _ensure_another_admin(company=company, leaving=[user.pk])
        user.roles = roles
    if isactive is not None:
        if not isactive and getattr(actor, "pk", None) == user.pk:
            raise InvalidInput("You cannot deactivate your own account.")
        if not isactive and user.is_company_admin and userid:
            _ensure_another_admin(company=company, leaving=[user.pk])
        user.is_active = isactive
    if usemfa is not None and usemfa != user.usemfa:
        if usemfa:
            raise InvalidInput("MFA is turned on by the user themself (users/mfa/setup, users/mfa/verify).")
        user.usemfa, user.mfa_secret, user.mfa_pending_secret = False, "", ""
    if user.is_active and not was_active:
        # A new or reactivated user counts against the plan's user limit (billing answers, through core).
        check_limit(company, USERS)
    with transaction.atomic():
        is_new = user._state.adding
        user_save(user)
        if is_new:
            confirmation_send(user=user)
    return user


def _ensure_another_admin(*, company: Company, leaving: Iterable[Any]) -> None:
    remaining = User.objects.for_company(company).filter(is_active=True).exclude(pk__in=list(leaving)).only("roles")
    if not any(user.is_company_admin for user in remaining):
        raise InvalidInput("The company must keep at least one active Company Admin.")


def members_delete(*, company: Company, actor: Any, userids: list[str]) -> int:
    """Delete users of the company and everything of theirs; all or nothing."""
    if not userids:
        raise InvalidInput("Missing users.")
    users = rows_with_ids(_members(company), userids, what="User")
    if getattr(actor, "pk", None) in {user.pk for user in users}:
        raise InvalidInput("You cannot delete your own account here.")
    for user in users:
        _guard_admin_rows(actor=actor, target_roles=user.roles)
    if any(user.is_company_admin for user in users):
        _ensure_another_admin(company=company, leaving=[user.pk for user in users])
    with transaction.atomic():
        User.objects.for_company(company).filter(pk__in=[user.pk for user in users]).delete()
    return len(users)
