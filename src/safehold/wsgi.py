"""WSGI entry point, used by `safehold serve` (gunicorn).

The embed's choices are answered in front of Django when they are the common case
(safehold.consent.fastpath); everything else is Django's.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safehold.settings")

django_application = get_wsgi_application()

from safehold.consent.fastpath import FastChoices  # noqa: E402  # needs Django set up, above

application = FastChoices(django_application)

# Django, the apps and their modules are loaded now and live as long as the process:
# keep the garbage collector from walking them again. A full collection of them took
# 24 ms, a pause for every request in flight (bench/README.md, Consent).
gc.collect()
gc.freeze()
