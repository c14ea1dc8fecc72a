"""On SQLite, an event's ``seq`` becomes the table's rowid (see ``SequenceField``).

SQLite cannot change a column's type in place: Django copies the table into a new one
and drops the old, triggers and all, so the append-only triggers are put back after. On
PostgreSQL the column stays ``bigint`` and nothing changes. A large log is copied once,
inside the migration's transaction.
"""

from django.db import migrations

import safehold.audit.models
from safehold.audit import triggers


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        for statement in triggers.install_statements("sqlite"):
            schema_editor.execute(statement)


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        for statement in triggers.remove_statements("sqlite"):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_checkpoint_origin")]

    operations = [
        migrations.RunPython(remove, install),
        migrations.AlterField(
            model_name="event",
            name="seq",
            field=safehold.audit.models.SequenceField(primary_key=True, serialize=False),
        ),
        migrations.RunPython(install, remove),
    ]
