"""Signing in: passwords with MFA, failed-login lockout, tokens and their revocation, key pairs."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import ApiKeyPair, Company, CompanyPrincipal, RevokedToken, User, normalize_email
from apps.core.counters import cache_count
from apps.core.crypto import decrypt_text, digest, digests_match, encrypt_text, random_token
from apps.core.exceptions import InvalidInput, NotAuthenticated, PermissionDenied, RateLimited
from apps.core.ids import is_ascii_digits, parse_uuid

LOGIN_FAILED = "Login failed."
API_KEY_PREFIX = "sk_"

# A hash to check against when the email is unknown, so both paths take the same time.
_DUMMY_PASSWORD_HASH = make_password("not-a-real-password-just-for-timing")


# --- failed-login lockout ---------------------------------------------------------------


def _throttle_keys(email: str, ip: str) -> list[tuple[str, int]]:
    email_key = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return [
        (f"login-fail:email:{email_key}", settings.LOGIN_MAX_FAILURES),
        (f"login-fail:ip:{ip}", settings.LOGIN_MAX_FAILURES_PER_IP),
    ]


def login_lockout_check(*, email: str, ip: str) -> None:
    """Raise RateLimited while this account or address is locked out."""
    now = time.time()
    for key, _limit in _throttle_keys(email, ip):
        unlock_at = cache.get(f"{key}:lock")
        if unlock_at and unlock_at > now:
            raise RateLimited(
                "Too many failed login attempts. Try again later.", retry_after=max(1, int(unlock_at - now) + 1)
            )


def login_failure_record(*, email: str, ip: str) -> None:
    """Count a failure; reaching a limit locks the account (or address) for LOGIN_LOCKOUT_SECONDS."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    for key, limit in _throttle_keys(email, ip):
        if cache_count(key, timeout=window) >= limit:
            cache.set(f"{key}:lock", time.time() + window, timeout=window)


def login_failures_clear(*, email: str) -> None:
    """A successful login forgets the account's failures (the address's count stays)."""
    key, _ = _throttle_keys(email, "-")[0]
    cache.delete_many([key, f"{key}:lock"])


# --- MFA (TOTP) -------------------------------------------------------------------------------


def _totp_step(secret: str, code: str, last_step: int) -> int | None:
    """The time step `code` is valid for (±1 step of drift), or None. Steps already used do not count."""
    code = (code or "").strip().replace(" ", "")
    if not is_ascii_digits(code) or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for drift in (0, -1, 1):
        moment = now + drift * totp.interval
        step = totp.timecode(datetime.fromtimestamp(moment, tz=UTC))
        if step > last_step and digests_match(totp.at(moment), code):
            return step
    return None


def mfa_setup(*, user: User) -> dict[str, str]:
    """Start MFA: a new secret waits for its first code (users/mfa/verify) before it is turned on."""
    secret = pyotp.random_base32()
    user.mfa_pending_secret = encrypt_text(secret)
    user.save(update_fields=["mfa_pending_secret", "updated_at"])
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=settings.MFA_ISSUER)
    return {"secret": secret, "otpauth_uri": uri}


def mfa_verify(*, user: User, code: str) -> None:
    """Check a code against the pending (or current) secret; a pending secret becomes the active one."""
    encrypted = user.mfa_pending_secret or user.mfa_secret
    if not encrypted:
        raise InvalidInput("MFA is not set up for this account. Call users/mfa/setup first.")
    step = _totp_step(decrypt_text(encrypted), code, user.mfa_last_step)
    if step is None:
        raise InvalidInput("MFA verification failed.")
    user.mfa_secret = encrypted
    user.mfa_pending_secret = ""
    user.usemfa = True
    user.mfa_last_step = step
    user.save(update_fields=["mfa_secret", "mfa_pending_secret", "usemfa", "mfa_last_step", "updated_at"])


def mfa_disable(*, user: User) -> None:
    """Turn MFA off and forget its secret."""
    user.usemfa = False
    user.mfa_secret = ""
    user.mfa_pending_secret = ""
    user.save(update_fields=["usemfa", "mfa_secret", "mfa_pending_secret", "updated_at"])


def _mfa_accepts(user: User, code: str | None) -> bool:
    step = _totp_step(decrypt_text(user.mfa_secret), code or "", user.mfa_last_step)
    if step is None:
        return False
    # Conditional update: of two logins racing with the same code, only one wins.
    updated = User.objects.filter(pk=user.pk, mfa_last_step__lt=step).update(mfa_last_step=step)
    user.mfa_last_step = step
    return updated == 1


# --- password login -------------------------------------------------------------------------------


def user_authenticate(*, email: str, password: str, mfacode: str | None, ip: str) -> User:
    """Check email, password and (when on) the MFA code; failures count towards the lockout."""
    login_lockout_check(email=email, ip=ip)
    user = User.objects.select_related("company").filter(email=normalize_email(email)).first()
    password_ok = check_password(password, user.password if user else _DUMMY_PASSWORD_HASH)
    if user is None or not (password_ok and user.is_active and user.company and user.company.is_active):
        login_failure_record(email=email, ip=ip)
        raise NotAuthenticated(LOGIN_FAILED)
    if user.usemfa and user.mfa_secret:
        if not mfacode:
            # Not counted as a failure: the password was right, the client must now ask for the code.
            raise NotAuthenticated("MFA code required.", extra={"mfarequired": True})
        if not _mfa_accepts(user, mfacode):
            login_failure_record(email=email, ip=ip)
            raise NotAuthenticated(LOGIN_FAILED, extra={"mfarequired": True})
    login_failures_clear(email=email)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


# --- tokens -------------------------------------------------------------------------------------------


def token_issue_for_user(*, user: User) -> str:
    """A Bearer token for a person; valid until it expires, logout, or logout/all."""
    token = AccessToken.for_user(user)
    token["kind"] = "user"
    token["gen"] = user.token_generation
    token["company_id"] = str(user.company_id) if user.company_id else None
    return str(token)


def token_issue_for_key_pair(*, key_pair: ApiKeyPair) -> str:
    """A Bearer token acting for the company, as its key pair does; ends when the pair is renewed or revoked."""
    token = AccessToken()
    token["kind"] = "company"
    token["company_id"] = str(key_pair.company_id)
    token["key_id"] = str(key_pair.pk)
    return str(token)


@dataclass(frozen=True)
class ResolvedToken:
    principal: User | CompanyPrincipal
    payload: dict[str, Any]


def token_resolve(*, raw: str) -> ResolvedToken:
    """The person or company a Bearer token stands for; NotAuthenticated when it is not valid now."""
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]  # the stubs omit the str form
    except TokenError as exc:
        raise NotAuthenticated("Missing or invalid token.") from exc
    payload = dict(token.payload)
    if RevokedToken.objects.filter(jti=payload.get("jti", "")).exists():
        raise NotAuthenticated("This token has been logged out.")
    if payload.get("kind") == "company":
        key_pair = ApiKeyPair.objects.select_related("company").filter(pk=payload.get("key_id")).first()
        if key_pair is None or not key_pair.company.is_active:
            raise NotAuthenticated("Missing or invalid token.")
        return ResolvedToken(CompanyPrincipal(key_pair.company, key_pair), payload)
    user = User.objects.select_related("company").filter(pk=parse_uuid(payload.get("user_id"))).first()
    if user is None or not user.is_active or user.token_generation != payload.get("gen"):
        raise NotAuthenticated("Missing or invalid token.")
    if user.company is not None and not user.company.is_active:
        raise NotAuthenticated("Missing or invalid token.")
    return ResolvedToken(user, payload)


def token_revoke(*, payload: dict[str, Any]) -> None:
    """End one token (logout)."""
    expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=UTC)
    RevokedToken.objects.get_or_create(jti=payload["jti"], defaults={"expires_at": expires_at})
    # Keep the table small: forget entries whose tokens have expired anyway.
    RevokedToken.objects.filter(expires_at__lt=timezone.now()).delete()


def user_logout_all(*, user: User) -> None:
    """End every token of the user at once, access tokens included."""
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    user.refresh_from_db(fields=["token_generation"])


# --- the company's API key + Enc key ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKeyPair:
    key_pair: ApiKeyPair
    apikey: str
    enckey: str


def key_pair_issue(*, company: Company, created_by: User | None) -> IssuedKeyPair:
    """New keys for the company; the previous pair stops working at once. Shown once, stored as digests."""
    prefix = random_token(9)[:12]
    apikey = f"{API_KEY_PREFIX}{prefix}.{random_token(32)}"
    enckey = random_token(32)
    with transaction.atomic():
        ApiKeyPair.objects.for_company(company).delete()
        key_pair = ApiKeyPair.objects.create(
            company=company,
            prefix=prefix,
            api_key_digest=digest(apikey, purpose="api-key"),
            enc_key_digest=digest(enckey, purpose="enc-key"),
            created_by=created_by,
        )
    return IssuedKeyPair(key_pair, apikey, enckey)


def key_pair_revoke(*, company: Company) -> int:
    """Remove the company's keys; returns how many pairs were removed."""
    deleted, _ = ApiKeyPair.objects.for_company(company).delete()
    return deleted


def _key_pair_by_api_key(apikey: str) -> ApiKeyPair | None:
    if not apikey.startswith(API_KEY_PREFIX) or "." not in apikey:
        return None
    prefix = apikey[len(API_KEY_PREFIX) :].split(".", 1)[0]
    key_pair = ApiKeyPair.objects.select_related("company").filter(prefix=prefix).first()
    if key_pair is None or not digests_match(key_pair.api_key_digest, digest(apikey, purpose="api-key")):
        return None
    if not key_pair.company.is_active:
        return None
    return key_pair


def key_pair_authenticate(*, apikey: str, enckey: str | None, require_enc_key: bool = True) -> ApiKeyPair:
    """The key pair these keys belong to; NotAuthenticated otherwise. Some surfaces take the API key alone."""
    key_pair = _key_pair_by_api_key(apikey or "")
    if key_pair is None:
        raise NotAuthenticated("Invalid API key or Enc key.")
    if require_enc_key and not digests_match(key_pair.enc_key_digest, digest(enckey or "", purpose="enc-key")):
        raise NotAuthenticated("Invalid API key or Enc key.")
    now = timezone.now()
    if key_pair.last_used_at is None or (now - key_pair.last_used_at).total_seconds() > 60:
        ApiKeyPair.objects.filter(pk=key_pair.pk).update(last_used_at=now)
    return key_pair


def require_person(principal: Any) -> User:
    """The person behind a request; refuses a company key pair."""
    if not getattr(principal, "is_person", False):
        raise PermissionDenied("This endpoint needs a user's Bearer token; an API key pair acts for the company.")
    return principal
