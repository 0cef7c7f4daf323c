"""An operator's way to make a ready company in one step."""

from __future__ import annotations

from apps.accounts.models import User, normalize_email
from apps.accounts.roles import COMPANY_ADMIN
from apps.accounts.services.auth import IssuedKeyPair, key_pair_issue
from apps.accounts.services.users import company_create, email_validate, password_validate, user_save


def company_bootstrap(
    *, name: str, email: str, password: str, plan: str, fname: str, lname: str, reuse: bool = False
) -> dict[str, str]:
    """A company, its confirmed Company Admin and a key pair: groupid, userid, email, apikey, enckey.

    With `reuse`, an existing Company Admin with that email keeps their company: their password is set
    and the company gets a fresh key pair (keys are only ever shown when made).
    """
    existing = User.objects.select_related("company").filter(email=normalize_email(email)).first()
    if reuse and existing is not None and existing.company is not None and existing.is_company_admin:
        password_validate(password, None, user=existing)
        existing.set_password(password)
        existing.save(update_fields=["password", "updated_at"])
        return _result(existing, key_pair_issue(company=existing.company, created_by=existing))
    email = email_validate(email)
    user = User(email=email, fname=fname, lname=lname, roles=[COMPANY_ADMIN], email_confirmed=True)
    password_validate(password, None, user=user)
    company = company_create(name=name, plan=plan, email=email)
    user.company = company
    user.set_password(password)
    user_save(user)
    return _result(user, key_pair_issue(company=company, created_by=user))


def _result(user: User, issued: IssuedKeyPair) -> dict[str, str]:
    return {
        "groupid": str(user.company_id),
        "userid": str(user.pk),
        "email": user.email,
        "apikey": issued.apikey,
        "enckey": issued.enckey,
    }
