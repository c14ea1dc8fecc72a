"""The one registry of API scopes and of what each kind of caller may hold.

A scope names one capability of the HTTP API. Its string never changes meaning:
keys in the database hold these strings, and the operator's other systems are
configured with them. A new capability gets a new scope.
"""

from __future__ import annotations

from django.db import models


class Scope(models.TextChoices):
    """Each scope, with what it allows as its label."""

    CONSENT_READ = "consent:read", "read a visitor's recorded consents"
    CONSENT_WRITE = "consent:write", "record a visitor's consent (accept, reject, withdraw)"
    STATEMENT_READ = "statement:read", "fetch the current privacy statement and its versions"
    SHARE_REQUEST = "share:request", "ask the share gate to disclose data to a recipient"
    EXPORT_REQUEST = "export:request", "start an export of a person's data"
    KEYS_READ = "keys:read", "read the calling key's own name, scopes and expiry (GET /me)"
    AUDIT_READ = "audit:read", "read the audit log's signed checkpoints and its proofs"


# A public site key is embedded in the operator's web pages, so anyone can copy
# it: it may hold only what the consent script needs.
SITE_KEY_SCOPES: frozenset[Scope] = frozenset({Scope.CONSENT_READ, Scope.CONSENT_WRITE})

# A person signed in on Safehold's own pages acts on their own data only.
SESSION_SCOPES: frozenset[Scope] = frozenset(
    {
        Scope.CONSENT_READ,
        Scope.CONSENT_WRITE,
        Scope.STATEMENT_READ,
        Scope.EXPORT_REQUEST,
        Scope.KEYS_READ,
    }
)


def parse_scopes(values: list[str] | str) -> frozenset[Scope]:
    """The scopes named in ``values`` (a list, or one comma-separated string).

    Raises ``ValueError`` naming the first unknown scope.
    """
    if isinstance(values, str):
        values = values.split(",")
    scopes = set()
    for raw in values:
        name = raw.strip()
        if not name:
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(scope.value for scope in Scope)
            raise ValueError(f"unknown scope {name!r} (known scopes: {known})") from None
    return frozenset(scopes)
