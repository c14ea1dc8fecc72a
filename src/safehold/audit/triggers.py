"""The append-only triggers on the audit tables, for SQLite and PostgreSQL.

Used by the migration that installs them; tests (and an attacker with database
access) can drop them, which is why ``safehold audit verify`` does not rely on them.
"""

from __future__ import annotations

from typing import Any

TABLES = ("audit_event", "audit_node", "audit_checkpoint")

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION safehold_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE =
        'the audit log is append-only: ' || TG_TABLE_NAME || ' rows cannot be changed or deleted';
END;
$$ LANGUAGE plpgsql
"""


def install_statements(vendor: str) -> list[str]:
    statements: list[str] = []
    if vendor == "sqlite":
        for table in TABLES:
            statements += [
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, "
                f"'the audit log is append-only: {table} rows cannot be changed'); END",
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
                "BEGIN SELECT RAISE(ABORT, "
                f"'the audit log is append-only: {table} rows cannot be deleted'); END",
            ]
    elif vendor == "postgresql":
        statements.append(_POSTGRES_FUNCTION)
        for table in TABLES:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION safehold_audit_append_only()",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION safehold_audit_append_only()",
            ]
    else:
        raise RuntimeError(f"append-only triggers are not written for {vendor}")
    return statements


def remove_statements(vendor: str) -> list[str]:
    statements: list[str] = []
    for table in TABLES:
        if vendor == "sqlite":
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_no_update",
                f"DROP TRIGGER IF EXISTS {table}_no_delete",
            ]
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
    return statements


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in install_statements(connection.vendor):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in remove_statements(connection.vendor):
            cursor.execute(statement)
