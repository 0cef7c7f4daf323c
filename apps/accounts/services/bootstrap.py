"""An operator's way to make a ready company in one step."""

from __future__ import annotations

from apps.accounts.models import User
from apps.accounts.roles import COMPANY_ADMIN
from apps.accounts.services.auth import key_pair_issue
from apps.accounts.services.users import email_validate, password_validate, user_save, company_create


def company_bootstrap(*, name: str, email: str, password: str, plan: str, fname: str, lname: str) -> dict[str, str]:
    """A company, its confirmed Company Admin and a key pair: groupid, userid, email, apikey, enckey."""
    email = email_validate(email)
    user = User(email=email, fname=fname, lname=lname, roles=[COMPANY_ADMIN], email_confirmed=True)
    password_validate(password, None, user=user)
    company = company_create(name=name, plan=plan, email=email)
    user.company = company
    user.set_password(password)
    user_save(user)
    issued = key_pair_issue(company=company, created_by=user)
    return {
        "groupid": str(company.pk),
        "userid": str(user.pk),
        "email": user.email,
        "apikey": issued.apikey,
        "enckey": issued.enckey,
    }
