"""Settings for ``makemessages`` inside one app: its strings go to its own catalogue."""

from safehold.settings import *  # noqa: F403

LOCALE_PATHS: list[str] = []
