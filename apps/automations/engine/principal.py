"""Who an automation acts as when it calls other apps' services: the company itself, as with its key pair."""

from __future__ import annotations

from typing import Any


class AutomationPrincipal:
    """The company, as its admin: an automation is set up by the company's automation managers."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_person = False
    is_company_admin = True
    pk = None
    id = None
    email = ""

    def __init__(self, company: Any) -> None:
        self.company = company

    def has_any_role(self, roles: Any) -> bool:
        return True
