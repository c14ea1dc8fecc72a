from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "safehold.core"
    label = "core"
    verbose_name = "Safehold"
