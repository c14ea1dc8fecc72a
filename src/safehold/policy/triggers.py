"""A published version is immutable in the database too, not only in the model.

Triggers refuse an UPDATE that changes a published version's content columns, and
an INSERT or UPDATE of a text that belongs to a published version: so a query
written around the model (``QuerySet.update``, raw SQL) cannot rewrite a statement
people have read. (Clearing ``published_by`` when that staff account is deleted is
allowed.) DELETE is left to the model's refusal: Django's test flush and SQLite's
table rebuilds delete rows. Installed after every ``migrate`` (post_migrate).
"""

from __future__ import annotations

from typing import Any

_CONTENT = ("number", "material", "cookie_section_changed", "effective_at", "published_at")
_MESSAGE = "a published privacy statement version cannot be changed: publish a new version"


def _sqlite() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)
    published = "(SELECT published_at FROM policy_statementversion WHERE id = {}) IS NOT NULL"
    raise_ = f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    return [
        "CREATE TRIGGER IF NOT EXISTS policy_version_frozen BEFORE UPDATE "
        f"ON policy_statementversion WHEN OLD.published_at IS NOT NULL AND ({changed}) {raise_}",
        "CREATE TRIGGER IF NOT EXISTS policy_text_frozen_update BEFORE UPDATE "
        f"ON policy_statementtext WHEN {published.format('OLD.version_id')} "
        f"OR {published.format('NEW.version_id')} {raise_}",
        "CREATE TRIGGER IF NOT EXISTS policy_text_frozen_insert BEFORE INSERT "
        f"ON policy_statementtext WHEN {published.format('NEW.version_id')} {raise_}",
    ]


def _postgresql() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _CONTENT)
    return [
        "CREATE OR REPLACE FUNCTION safehold_policy_frozen() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION USING MESSAGE = '{_MESSAGE}'; END; $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION safehold_policy_text_frozen() RETURNS trigger AS $$ "  # noqa: S608  # fixed names and a constant message
        "BEGIN "
        "IF EXISTS (SELECT 1 FROM policy_statementversion WHERE published_at IS NOT NULL "
        "AND (id = NEW.version_id OR (TG_OP = 'UPDATE' AND id = OLD.version_id))) THEN "
        f"RAISE EXCEPTION USING MESSAGE = '{_MESSAGE}'; END IF; RETURN NEW; END; "
        "$$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS policy_version_frozen ON policy_statementversion",
        "CREATE TRIGGER policy_version_frozen BEFORE UPDATE ON policy_statementversion "
        f"FOR EACH ROW WHEN (OLD.published_at IS NOT NULL AND ({changed})) "
        "EXECUTE FUNCTION safehold_policy_frozen()",
        "DROP TRIGGER IF EXISTS policy_text_frozen ON policy_statementtext",
        "CREATE TRIGGER policy_text_frozen BEFORE INSERT OR UPDATE ON policy_statementtext "
        "FOR EACH ROW EXECUTE FUNCTION safehold_policy_text_frozen()",
    ]


def install(connection: Any) -> None:
    """Install (or refresh) the triggers; other databases rely on the model alone."""
    statements = {"sqlite": _sqlite, "postgresql": _postgresql}.get(connection.vendor)
    if statements is None:
        return
    with connection.cursor() as cursor:
        for statement in statements():
            cursor.execute(statement)
