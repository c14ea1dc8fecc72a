"""The log is append-only in the database itself: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL) on events, nodes and checkpoints. The head row, which
appends lock and update, is created here once."""

from django.db import migrations

from safehold.audit import triggers


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in triggers.install_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)
    apps.get_model("audit", "Head").objects.get_or_create(id=1)


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in triggers.remove_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
