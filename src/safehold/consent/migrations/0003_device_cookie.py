"""The activity app's device cookie is strictly necessary (it recognises a browser for
sign-in security and new-device alerts): list it with the other necessary cookies."""

from django.db import migrations

DEVICE_COOKIES = ["safehold_device", "__Host-safehold_device"]


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    Category = apps.get_model("consent", "Category")
    for category in Category.objects.filter(slug="necessary"):
        names = [line.strip() for line in category.cookies.splitlines() if line.strip()]
        missing = [name for name in DEVICE_COOKIES if name not in names]
        if missing:
            category.cookies = "\n".join(names + missing)
            category.save(update_fields=["cookies"])


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    Category = apps.get_model("consent", "Category")
    for category in Category.objects.filter(slug="necessary"):
        names = [line.strip() for line in category.cookies.splitlines() if line.strip()]
        category.cookies = "\n".join(n for n in names if n not in DEVICE_COOKIES)
        category.save(update_fields=["cookies"])


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_default_categories")]

    operations = [migrations.RunPython(add, remove)]
