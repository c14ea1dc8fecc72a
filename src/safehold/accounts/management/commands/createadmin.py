"""``safehold createadmin``: the first administrator, with a verified e-mail address."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from safehold.accounts.models import User


class Command(BaseCommand):
    help = (
        "Create an administrator (staff and superuser) whose e-mail address counts as verified. "
        "Asks for what is missing; with --no-input the password comes from SAFEHOLD_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--no-input", "--noinput", action="store_true", dest="no_input")

    def _ask(self, prompt: str, given: str | None, no_input: bool) -> str:
        if given:
            return given.strip()
        if no_input or not sys.stdin.isatty():
            raise CommandError(
                f"--{prompt.lower().replace(' ', '')} is required without a terminal"
            )
        return input(f"{prompt}: ").strip()

    def handle(self, *args: Any, **options: Any) -> None:
        no_input = options["no_input"]
        username = self._ask("Username", options["username"], no_input)
        email = self._ask("Email", options["email"], no_input)
        if not username:
            raise CommandError("a user name is required")
        if len(username) > 150:
            raise CommandError("the user name is too long (at most 150 characters)")
        try:
            User.username_validator(username)
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError("that user name is taken")
        if EmailAddress.objects.filter(email__iexact=email).exists():
            raise CommandError("that e-mail address already belongs to an account")

        password = os.environ.get("SAFEHOLD_ADMIN_PASSWORD", "")
        if not password:
            if no_input or not sys.stdin.isatty():
                raise CommandError("set SAFEHOLD_ADMIN_PASSWORD, or run in a terminal to be asked")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        candidate = User(username=username, email=email)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

        with transaction.atomic():
            user = User.objects.create_superuser(username=username, email=email, password=password)
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        self.stdout.write(
            self.style.SUCCESS(f"Administrator {username} created. Sign in at /accounts/login/.")
        )
