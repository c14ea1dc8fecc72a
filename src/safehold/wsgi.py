"""WSGI entry point, used by `safehold serve` (gunicorn).

The embed's choices are answered in front of Django when they are the common case
(safehold.consent.fastpath); everything else is Django's.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safehold.settings")

django_application = get_wsgi_application()

from safehold.consent.fastpath import FastChoices  # noqa: E402  # needs Django set up, above

application = FastChoices(django_application)
