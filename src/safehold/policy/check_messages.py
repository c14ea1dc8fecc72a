"""Words of the promise checks that live in the floor apps' ``checks.py`` (vault, audit,
accounts), listed here so that this app's catalogue carries their Chinese: the floor
apps do not import this app, and Django finds a translation in any catalogue."""

from django.utils.translation import gettext_noop

MESSAGES = (
    gettext_noop("%(values)d stored values in %(columns)d encrypted columns sampled: all sealed."),
    gettext_noop("%(events)d events verified against %(checkpoints)d signed checkpoints."),
    gettext_noop("%(count)d stored passwords are not argon2id hashes."),
    gettext_noop("%(count)d stored passwords, all argon2id."),
    gettext_noop(
        "Passwords need at least %(length)d characters and must not be common; "
        "second factors offered: %(factors)s."
    ),
)
