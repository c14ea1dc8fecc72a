"""Look-ups by subject and by type move off the append path (``models.Lookup``).

The event table's two look-up indexes (``event_type``, ``subject_id``) made every
audited transaction write two more pages than the event itself. They are dropped in
place (Django would copy the whole table twice on SQLite to drop them); the new
``audit_lookup`` table is filled from the existing log once here, and from then on in
bulk behind the log (``services.index_lookups``). Going back recreates the indexes.
"""

from django.db import migrations, models

_COLUMNS = ("event_type", "subject_id")


def drop_indexes(apps, schema_editor):  # type: ignore[no-untyped-def]
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "audit_event")
    for name, info in constraints.items():
        plain = info["index"] and not info["primary_key"] and not info["unique"]
        if plain and len(info["columns"]) == 1 and info["columns"][0] in _COLUMNS:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_indexes(apps, schema_editor):  # type: ignore[no-untyped-def]
    for column in _COLUMNS:
        schema_editor.execute(f"CREATE INDEX audit_event_{column}_idx ON audit_event ({column})")


def index_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Look-up entries for every event already in the log, and the mark after them."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT max(seq) FROM audit_event")
        last = cursor.fetchone()[0]
        size = 0 if last is None else int(last) + 1
        cursor.execute(
            "INSERT INTO audit_lookup (key, seq) "
            "SELECT 's:' || subject_id, seq FROM audit_event WHERE subject_id <> '' "
            "UNION ALL SELECT 't:' || event_type, seq FROM audit_event"
        )
        cursor.execute("INSERT INTO audit_lookupprogress (id, indexed) VALUES (1, %s)", [size])


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_drop_head")]

    operations = [
        migrations.CreateModel(
            name="Lookup",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "key", "seq", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("key", models.CharField(max_length=80)),
                ("seq", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="LookupProgress",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("indexed", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="event_type",
                    field=models.CharField(max_length=64, verbose_name="event"),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="subject_id",
                    field=models.CharField(blank=True, max_length=64),
                ),
            ],
        ),
    ]
