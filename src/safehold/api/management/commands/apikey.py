"""``safehold apikey``: create, list and revoke API keys.

    safehold apikey create --name "billing" --scopes consent:read,keys:read [--expires 2027-01-01]
    safehold apikey create --name "www embed" --kind site --scopes consent:read,consent:write \
        --origins https://www.example.com
    safehold apikey origins 4 https://www.example.com,https://shop.example.com
    safehold apikey list
    safehold apikey revoke 3

``create`` prints the key once, on the last line of its output; Safehold keeps
only its hash. Errors are one line and a non-zero exit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from safehold.api import origins, services
from safehold.api.exceptions import ApiKeyError, InvalidKeySettings
from safehold.api.models import ApiKey
from safehold.api.scopes import SITE_KEY_SCOPES, Scope
from safehold.audit.services import Actor


def _expiry(text: str) -> datetime:
    """A date (the key expires at the start of that day, UTC) or an ISO date-time."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--expires must be a date like 2027-01-01 or an ISO date-time, not {text!r}"
        ) from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Create, list and revoke API keys (docs/api.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        scope_list = ", ".join(scope.value for scope in Scope)
        create = actions.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True, help="what the key is for")
        create.add_argument("--scopes", required=True, help=f"comma-separated, from: {scope_list}")
        create.add_argument(
            "--kind",
            choices=ApiKey.Kind.values,
            default=ApiKey.Kind.SERVER,
            help="server (default; secret) or site (public, in web pages; only "
            + ", ".join(sorted(SITE_KEY_SCOPES))
            + ")",
        )
        create.add_argument("--expires", help="expiry date (2027-01-01) or date-time, UTC")
        create.add_argument(
            "--origins",
            default="",
            help="site keys: comma-separated web origins allowed to use the key from a "
            "browser (https://www.example.com,https://shop.example.com)",
        )
        actions.add_parser("list", help="list keys (never their secrets)")
        allow = actions.add_parser("origins", help="set a site key's allowed origins")
        allow.add_argument("id", type=int)
        allow.add_argument("origins", help="comma-separated origins; an empty string for none")
        revoke = actions.add_parser("revoke", help="revoke a key by its id")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "origins":
            self._origins(options["id"], options["origins"])
        elif action == "list":
            self._list()
        else:
            self._revoke(options["id"])

    def _create(self, options: dict[str, Any]) -> None:
        expires_at = _expiry(options["expires"]) if options["expires"] else None
        try:
            allowed = origins.parse_origins(options["origins"])
            if allowed and options["kind"] != ApiKey.Kind.SITE:
                raise InvalidKeySettings("--origins is for site keys (--kind site)")
            with transaction.atomic():
                issued = services.create_api_key(
                    name=options["name"],
                    scopes=options["scopes"].split(","),
                    kind=options["kind"],
                    expires_at=expires_at,
                    actor=None,
                )
                if allowed:
                    origins.set_allowed_origins(issued.api_key.pk, allowed, actor=Actor.system())
                    issued.api_key.refresh_from_db()
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        key = issued.api_key
        if key.allowed_origins:
            self.stdout.write(f"Allowed origins: {', '.join(key.allowed_origins)}.")
        self.stdout.write(
            f"Created API key {key.pk} {key.name!r} ({key.kind}; scopes: {', '.join(key.scopes)}; "
            f"expires: {_when(key.expires_at) if key.expires_at else 'never'})."
        )
        self.stdout.write("Copy it now: Safehold keeps only its hash and cannot show it again.")
        self.stdout.write(issued.token)

    def _list(self) -> None:
        now = timezone.now()
        rows = [("ID", "NAME", "KEY", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "STATUS")]
        for key in ApiKey.objects.order_by("id"):
            rows.append(
                (
                    str(key.pk),
                    key.name,
                    f"{key.display_prefix}_…",
                    ",".join(key.scopes),
                    _when(key.created_at),
                    _when(key.expires_at),
                    _when(key.last_used_at),
                    key.status_at(now),
                )
            )
        if len(rows) == 1:
            self.stdout.write("No API keys yet: `safehold apikey create --name ... --scopes ...`.")
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    def _origins(self, key_id: int, text: str) -> None:
        try:
            key = origins.set_allowed_origins(key_id, text, actor=Actor.system())
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        shown = ", ".join(key.allowed_origins) or "none (browsers are refused)"
        self.stdout.write(f"API key {key.pk} {key.name!r} allowed origins: {shown}.")

    def _revoke(self, key_id: int) -> None:
        try:
            key, revoked = services.revoke_api_key(key_id, actor=None)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        if revoked:
            self.stdout.write(f"Revoked API key {key.pk} {key.name!r}: it is refused from now on.")
        else:
            self.stdout.write(
                f"API key {key.pk} {key.name!r} was already revoked on {_when(key.revoked_at)}."
            )
