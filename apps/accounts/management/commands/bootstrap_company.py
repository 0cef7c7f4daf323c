"""Create a company, its Company Admin and its key pair; print them as JSON on the last line."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts.roles import PLAN_CODES
from apps.accounts.services.bootstrap import company_bootstrap
from apps.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create a company with its Company Admin and API key pair. The last line of output is JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The company's name.")
        parser.add_argument("--email", required=True, help="The Company Admin's email (their login).")
        parser.add_argument("--password", required=True, help="The Company Admin's password.")
        parser.add_argument("--plan", default="NONE", choices=PLAN_CODES, help="The company's plan.")
        parser.add_argument("--fname", default="Admin")
        parser.add_argument("--lname", default="User")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="If the email is already a Company Admin, keep that company: set the password, renew its keys.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                result = company_bootstrap(
                    name=options["name"],
                    email=options["email"],
                    password=options["password"],
                    plan=options["plan"],
                    fname=options["fname"],
                    lname=options["lname"],
                    reuse=options["reuse"],
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Company {result['groupid']} is ready with Company Admin {result['email']}.")
        self.stdout.write(json.dumps(result))
