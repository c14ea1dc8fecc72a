from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "safehold.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        from safehold.core import promises
        from safehold.jobs import checks, tasks  # noqa: F401  # registers the built-in tasks

        for module in settings.SAFEHOLD_JOBS_TASK_MODULES:
            import_module(module)
        promises.register(
            "jobs-running",
            clause="security",
            title=_("Background jobs are running"),
            check=checks.check_jobs_running,
            order=80,
        )
