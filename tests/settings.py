"""Test settings: production settings, with a fast hasher and a throw-away data directory.

``SAFEHOLD_TEST_DATABASE_URL`` runs the suite on that database (PostgreSQL);
``SAFEHOLD_TEST_REDIS_URL`` puts the cache and rate limits in that Redis.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url

# SAFEHOLD_TEST_DATA_DIR lets helper processes of a test share the test's data directory.
_DATA_DIR = os.environ.get("SAFEHOLD_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="safehold-test-")
os.environ["SAFEHOLD_DATA_DIR"] = _DATA_DIR
for _name in (
    "SAFEHOLD_DATABASE_URL",
    "SAFEHOLD_REDIS_URL",
    "SAFEHOLD_SMTP_HOST",
    "SAFEHOLD_HTTPS",
):
    os.environ.pop(_name, None)

from safehold.conf import ensure_data_dir  # noqa: E402  # after the environment is set

ensure_data_dir(Path(_DATA_DIR))

from safehold.settings import *  # noqa: E402, F403  # the settings under test

# The production hasher is argon2id (tests/accounts/test_passwords.py checks its
# real parameters); everything else signs in with a fast one.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

_test_db = os.environ.get("SAFEHOLD_TEST_DATABASE_URL", "").strip()
if _test_db:
    DATABASES = {"default": dj_database_url.parse(_test_db)}
    if _test_db.startswith(("postgres://", "postgresql://")):
        # The key store in a PostgreSQL database of its own (the named one; Django's
        # test database is a different one, test_<name>), as several servers share it.
        SAFEHOLD_VAULT_KEYSTORE = _test_db

SAFEHOLD_TEST_REDIS_URL = os.environ.get("SAFEHOLD_TEST_REDIS_URL", "").strip()
if SAFEHOLD_TEST_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": SAFEHOLD_TEST_REDIS_URL,
            "KEY_PREFIX": "safehold-test",
        }
    }

# Static files straight from the apps (no collectstatic in tests).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
