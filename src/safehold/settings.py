"""Django settings for Safehold.

Every setting an operator may change comes from a ``SAFEHOLD_*`` environment
variable (docs/configuration.md lists them all); every default is the secure one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from safehold import conf

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = conf.data_dir()

SECRET_KEY = conf.read_secret_key(DATA_DIR)
DEBUG = conf.env_bool("SAFEHOLD_DEBUG", False)

# The site's operator: the name on every page and in every message.
SAFEHOLD_OPERATOR_NAME = conf.env_str("SAFEHOLD_OPERATOR_NAME", "SMM")
SAFEHOLD_CONTACT_EMAIL = conf.env_str("SAFEHOLD_CONTACT_EMAIL", "privacy@localhost")
# Phone numbers without a leading + are read as numbers of this region (ISO 3166
# alpha-2); empty means a number must be written in international form.
SAFEHOLD_PHONE_REGION = conf.env_str("SAFEHOLD_PHONE_REGION", "").upper() or None
# Where "approximate place" comes from: a class with locate(ip) -> str.
SAFEHOLD_GEOLOCATOR = conf.env_str(
    "SAFEHOLD_GEOLOCATOR", "safehold.accounts.geo.LocalCountryLocator"
)

# --- HTTP -----------------------------------------------------------------------
ALLOWED_HOSTS = conf.env_list("SAFEHOLD_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = conf.env_list("SAFEHOLD_CSRF_TRUSTED_ORIGINS", [])
SAFEHOLD_HTTPS = conf.env_bool("SAFEHOLD_HTTPS", False)
SAFEHOLD_TRUSTED_PROXY_COUNT = conf.env_int("SAFEHOLD_TRUSTED_PROXY_COUNT", 0, minimum=0)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = conf.env_int("SAFEHOLD_SESSION_AGE", 14 * 24 * 3600, minimum=300)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

if SAFEHOLD_HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = conf.env_int("SAFEHOLD_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = conf.env_bool("SAFEHOLD_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = conf.env_bool("SAFEHOLD_HSTS_PRELOAD", False)
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
if SAFEHOLD_TRUSTED_PROXY_COUNT:
    # Only behind a proxy the operator runs may X-Forwarded-* be believed.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = False

# A request body over this size is refused with 400 before any form sees it.
DATA_UPLOAD_MAX_MEMORY_SIZE = conf.env_int(
    "SAFEHOLD_MAX_REQUEST_BYTES", 1024 * 1024, minimum=16 * 1024
)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# Content-Security-Policy: everything from this host, no inline script, nothing
# from any other host (the statement promises data stays on the operator's server).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # the TOTP QR code is an SVG data: URI
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Vault ---------------------------------------------------------------------------
# Where the key-encryption keys and every person's wrapped data key live: a SQLite
# file kept apart from the main database, or a postgresql:// URL of a database of
# its own. Shredding a data key here reaches every earlier copy of the main database.
SAFEHOLD_VAULT_KEYSTORE = conf.env_str(
    "SAFEHOLD_VAULT_KEYSTORE", str(DATA_DIR / "vault-keys.sqlite3")
)
SAFEHOLD_MASTER_KEY_PROVIDER = conf.env_str(
    "SAFEHOLD_MASTER_KEY_PROVIDER", "safehold.vault.masterkey.LocalMasterKey"
)

# --- Applications -----------------------------------------------------------------
INSTALLED_APPS = [
    # Our apps first: their templates override allauth's and the admin's.
    "safehold.core",
    "safehold.vault",
    "safehold.audit",
    "safehold.accounts",
    "safehold.jobs",
    "safehold.consent",
    "safehold.policy",
    "safehold.feedback",
    "safehold.sharing",
    "safehold.activity",
    "safehold.rights",
    "safehold.ops",
    "safehold.api",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "safehold.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "safehold.accounts.middleware.SignedInSessionMiddleware",
    "safehold.ops.middleware.MaintenanceMiddleware",
    "safehold.consent.middleware.ConsentMiddleware",
    "safehold.policy.middleware.AcknowledgementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "safehold.core.middleware.NoStoreMiddleware",
    # Innermost: the view's writes and their audit events share one transaction, and
    # work deferred to on_commit (allauth's messages and MFA signals) runs before the
    # outer middleware (messages, session) finish the response.
    "safehold.audit.middleware.AtomicWritesMiddleware",
]

ROOT_URLCONF = "safehold.urls"
WSGI_APPLICATION = "safehold.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "safehold.core.context_processors.site",
                "safehold.core.context_processors.registry",
            ],
        },
    },
]

# --- Data ---------------------------------------------------------------------------
_database_url = conf.env_str("SAFEHOLD_DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Statements that ask for it (the audit log's append) are prepared once per
        # connection instead of planned on every run. Django's own queries bind on the
        # client and are never prepared. Off for a pooler that cannot keep prepared
        # statements (PgBouncer before 1.22 in transaction mode).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
            5 if conf.env_bool("SAFEHOLD_DATABASE_PREPARE", True) else None
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "safehold.sqlite3"),
            "OPTIONS": {
                # WAL lets readers and one writer work at once; synchronous=FULL
                # makes a commit durable before it is acknowledged.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                ),
                # Take the write lock at BEGIN, so concurrent writers wait for it
                # (timeout) instead of failing on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SAFEHOLD_REDIS_URL = conf.env_str("SAFEHOLD_REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if SAFEHOLD_REDIS_URL:
    # Shared by every app server: sign-in rate limits hold across all of them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": SAFEHOLD_REDIS_URL,
            "KEY_PREFIX": "safehold",
        }
    }
else:
    # A file cache in the data directory is shared by all the workers of one
    # machine, which is what the embedded default runs.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]
# argon2id first (Django's defaults, m=100 MiB, t=2, p=8, are above OWASP's
# minimum of m=19 MiB, t=2, p=1); the others only verify old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "safehold.accounts.validators.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "safehold.accounts.validators.PasswordHintValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "account_centre"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "safehold.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SAFEHOLD_OPERATOR_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SAFEHOLD_HTTPS else "http"
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Brute force is slowed per IP and per account (allauth's "key" is the login).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    # Ours: "E-mail me my password hint", per IP and per account.
    "password_hint": "10/h/ip",
    "password_hint_account": "3/h/key",
    # Ours: signing other sessions out.
    "revoke_sessions": "30/m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = SAFEHOLD_TRUSTED_PROXY_COUNT

MFA_ADAPTER = "safehold.accounts.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = SAFEHOLD_OPERATOR_NAME
MFA_RECOVERY_CODE_COUNT = 10
# Browsers allow WebAuthn on http://localhost, but allauth then needs its origin
# check switched off (it accepts only https origins). That check guards against
# relayed (phishing) sign-ins, so it is switched off only for a plain-HTTP site
# that answers to loopback names alone.
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not SAFEHOLD_HTTPS and set(ALLOWED_HOSTS) <= _LOOPBACK_HOSTS

# --- Mail -----------------------------------------------------------------------------
SAFEHOLD_SMTP_HOST = conf.env_str("SAFEHOLD_SMTP_HOST")
DEFAULT_FROM_EMAIL = conf.env_str(
    "SAFEHOLD_FROM_EMAIL", f"{SAFEHOLD_OPERATOR_NAME} <no-reply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if SAFEHOLD_SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SAFEHOLD_SMTP_HOST
    EMAIL_PORT = conf.env_int("SAFEHOLD_SMTP_PORT", 587, minimum=1)
    EMAIL_HOST_USER = conf.env_str("SAFEHOLD_SMTP_USER")
    EMAIL_HOST_PASSWORD = conf.env_str("SAFEHOLD_SMTP_PASSWORD")
    EMAIL_USE_TLS = conf.env_bool("SAFEHOLD_SMTP_STARTTLS", True)
    EMAIL_USE_SSL = conf.env_bool("SAFEHOLD_SMTP_SSL", False)
    EMAIL_TIMEOUT = 15
else:
    # Development: each message is a file in the data directory.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / conf.MAIL_DIR)

# --- Languages --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Logs -----------------------------------------------------------------------------------
# Log lines carry request ids and event names, never personal data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Tracebacks keep the exception's type and frames but not its message, which
        # can quote values (a database error names the duplicate e-mail address).
        "plain": {
            "()": "safehold.core.logs.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": conf.env_str("SAFEHOLD_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs a 4xx with the request path, which can hold personal data
        # in a query string; Safehold's own access log is the audit log.
        "django.request": {"level": "ERROR"},
        "django.security.DisallowedHost": {"level": "ERROR"},
    },
}

CSRF_FAILURE_VIEW = "safehold.core.views.csrf_failure"

# --- API ---
# The HTTP API at /api/v1/ (docs/api.md). Rate limits are fixed windows in the cache
# (Redis with SAFEHOLD_REDIS_URL, so every app server shares them): per server key
# or signed-in person, and per client IP for every API request.
from safehold.api.rates import parse_rate  # noqa: E402  # after conf, before Django starts

SAFEHOLD_API_RATE_KEY = parse_rate(
    "SAFEHOLD_API_RATE_KEY", conf.env_str("SAFEHOLD_API_RATE_KEY", "600/m")
)
SAFEHOLD_API_RATE_IP = parse_rate(
    "SAFEHOLD_API_RATE_IP", conf.env_str("SAFEHOLD_API_RATE_IP", "1200/m")
)
# ninja ships Swagger UI's files; as an installed app they are static files of this
# server, so the API docs page loads nothing from a CDN.
INSTALLED_APPS += ["ninja"]
# Problem documents for every failure under /api/, and the per-IP limit: right
# after the request id is set, before sessions are read.
MIDDLEWARE.insert(
    MIDDLEWARE.index("safehold.core.middleware.RequestIdMiddleware") + 1,
    "safehold.api.middleware.ApiMiddleware",
)


# Each feature app's settings, in its own block (docs/configuration.md has a section
# for each). Keep every block's edits inside it.
# --- Jobs (safehold worker) ---
# The database is the queue (docs/deployment.md, "Background jobs"). Seconds between
# polls of an idle worker, and the retry backoff: base * 2 ** (attempt - 1), capped.
def _env_seconds(name: str, default: float) -> float:
    raw = conf.env_str(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise conf.ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0.05 <= value <= 3600:
        raise conf.ConfigError(f"{name} must be between 0.05 and 3600 seconds, not {raw!r}")
    return value


SAFEHOLD_JOBS_POLL_SECONDS = _env_seconds("SAFEHOLD_JOBS_POLL_SECONDS", 2.0)
SAFEHOLD_JOBS_BACKOFF_SECONDS = conf.env_int("SAFEHOLD_JOBS_BACKOFF_SECONDS", 30, minimum=1)
SAFEHOLD_JOBS_BACKOFF_MAX_SECONDS = conf.env_int(
    "SAFEHOLD_JOBS_BACKOFF_MAX_SECONDS", 3600, minimum=1
)
# The promise "background jobs are running" breaks when a job waits this long past due.
SAFEHOLD_JOBS_OVERDUE_MINUTES = conf.env_int("SAFEHOLD_JOBS_OVERDUE_MINUTES", 15, minimum=1)
# Extra modules of tasks to import when Django starts (site-specific tasks).
SAFEHOLD_JOBS_TASK_MODULES = conf.env_list("SAFEHOLD_JOBS_TASK_MODULES", [])
# `safehold serve` runs one worker beside gunicorn, so one command runs everything.
SAFEHOLD_SERVE_WORKER = conf.env_bool("SAFEHOLD_SERVE_WORKER", True)
# Built-in retention rules (safehold retention --dry-run lists every rule).
SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS = conf.env_int(
    "SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS", 30, minimum=1
)
SAFEHOLD_RETAIN_API_IDEMPOTENCY_DAYS = conf.env_int(
    "SAFEHOLD_RETAIN_API_IDEMPOTENCY_DAYS", 0, minimum=0
)


# --- Consent (cookies) ---
# A visitor's cookie choice is asked again after this many days (and whenever the
# categories or the statement's cookie section change).
SAFEHOLD_CONSENT_RENEW_DAYS = conf.env_int("SAFEHOLD_CONSENT_RENEW_DAYS", 365, minimum=1)
# A consent API request body over this size is refused (413) before it is parsed.
SAFEHOLD_CONSENT_MAX_BODY_BYTES = conf.env_int(
    "SAFEHOLD_CONSENT_MAX_BODY_BYTES", 16 * 1024, minimum=1024
)
# Write an audit event for every recorded choice (the record itself is the proof; the
# event makes it tamper-evident). Choices joined to an account are always audited.
SAFEHOLD_CONSENT_AUDIT_CHOICES = conf.env_bool("SAFEHOLD_CONSENT_AUDIT_CHOICES", True)
# Answer the embed's common choice in front of the full stack and save choices in
# groups (safehold.consent.fastpath); off: every choice goes through Django alone.
SAFEHOLD_CONSENT_FAST_PATH = conf.env_bool("SAFEHOLD_CONSENT_FAST_PATH", True)
# Proof-of-consent records older than this are purged by the worker's retention job.
SAFEHOLD_RETAIN_CONSENT_RECORDS_DAYS = conf.env_int(
    "SAFEHOLD_RETAIN_CONSENT_RECORDS_DAYS", 3 * 365, minimum=30
)

# --- Privacy statement and promise map ---
# How long the promise map's results are kept before its checks run again (seconds);
# "Run the checks now" on /privacy/promises and `safehold promises` always run them.
SAFEHOLD_PROMISES_CACHE_SECONDS = conf.env_int("SAFEHOLD_PROMISES_CACHE_SECONDS", 600, minimum=0)

# --- Contact ---
# The contact form (/contact/) and the staff inbox (/staff/inbox/); docs/configuration.md.
# Spam is held off without a third-party captcha: fixed-window rate limits in the cache
# (Redis with SAFEHOLD_REDIS_URL, shared by every app server), a honeypot field, and a
# signed timestamp in the form (sent faster than a person types = refused).
SAFEHOLD_CONTACT_RATE_IP = parse_rate(
    "SAFEHOLD_CONTACT_RATE_IP", conf.env_str("SAFEHOLD_CONTACT_RATE_IP", "10/h")
)
SAFEHOLD_CONTACT_RATE_EMAIL = parse_rate(
    "SAFEHOLD_CONTACT_RATE_EMAIL", conf.env_str("SAFEHOLD_CONTACT_RATE_EMAIL", "5/h")
)
SAFEHOLD_CONTACT_MIN_SECONDS = conf.env_int("SAFEHOLD_CONTACT_MIN_SECONDS", 3, minimum=0)
SAFEHOLD_CONTACT_FORM_HOURS = conf.env_int("SAFEHOLD_CONTACT_FORM_HOURS", 24, minimum=1)
SAFEHOLD_CONTACT_MAX_CHARS = conf.env_int("SAFEHOLD_CONTACT_MAX_CHARS", 5000, minimum=100)
SAFEHOLD_CONTACT_ANSWER_DAYS = conf.env_int("SAFEHOLD_CONTACT_ANSWER_DAYS", 7, minimum=1)
SAFEHOLD_RETAIN_CONTACT_DAYS = conf.env_int("SAFEHOLD_RETAIN_CONTACT_DAYS", 730, minimum=1)
# Staff addresses told (reference and category only) when a message arrives.
SAFEHOLD_CONTACT_NOTIFY = conf.env_list("SAFEHOLD_CONTACT_NOTIFY", [])

# --- Sharing ---
# How long a legal request's approval stays valid for its release (hours).
SAFEHOLD_SHARING_APPROVAL_HOURS = conf.env_int("SAFEHOLD_SHARING_APPROVAL_HOURS", 72, minimum=1)
# The largest document that can be attached to a legal request (bytes; stored encrypted).
SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES = conf.env_int(
    "SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024
)
# Legal-role staff are reminded this many days before a non-disclosure order's review date.
SAFEHOLD_SHARING_ORDER_REMINDER_DAYS = conf.env_int(
    "SAFEHOLD_SHARING_ORDER_REMINDER_DAYS", 7, minimum=0
)
# Refusals of the share API are recorded after the request's transaction rolls back.
MIDDLEWARE.insert(
    MIDDLEWARE.index("safehold.audit.middleware.AtomicWritesMiddleware"),
    "safehold.sharing.middleware.RefusalRecordMiddleware",
)

# --- Activity (access records, payments, devices) ---
# docs/configuration.md, "Activity". Retention is applied by the worker's daily job.
SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS = conf.env_int(
    "SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS", 180, minimum=1
)
SAFEHOLD_RETAIN_DEVICE_IPS_DAYS = conf.env_int("SAFEHOLD_RETAIN_DEVICE_IPS_DAYS", 90, minimum=1)
SAFEHOLD_PAYMENT_PROCESSOR = conf.env_str(
    "SAFEHOLD_PAYMENT_PROCESSOR", "safehold.activity.payments.LocalTestProcessor"
)
SAFEHOLD_PAYMENT_CURRENCIES = conf.env_list(
    "SAFEHOLD_PAYMENT_CURRENCIES", ["EUR", "USD", "GBP", "CNY", "JPY"]
)
SAFEHOLD_PAYMENT_MAX_AMOUNT = conf.env_int("SAFEHOLD_PAYMENT_MAX_AMOUNT", 10000, minimum=1)
# The device cookie: strictly necessary for security (it tells a known device from a
# new one, for the "new device" e-mail); it holds a random token, stored hashed.
SAFEHOLD_DEVICE_COOKIE_NAME = conf.env_str(
    "SAFEHOLD_DEVICE_COOKIE_NAME",
    "__Host-safehold_device" if SAFEHOLD_HTTPS else "safehold_device",
)
SAFEHOLD_DEVICE_COOKIE_DAYS = conf.env_int("SAFEHOLD_DEVICE_COOKIE_DAYS", 400, minimum=1)
# Visits to account pages are recorded after the sign-in middleware has set the user.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "safehold.activity.middleware.AccessRecordMiddleware",
)

# --- Your data (export, deletion, retention) ---
# Archives of "download my data", sealed; the worker writes them and the web
# servers read them, so with several machines this is shared storage.
SAFEHOLD_EXPORT_DIR = conf.env_str("SAFEHOLD_EXPORT_DIR", str(DATA_DIR / "exports"))
SAFEHOLD_EXPORT_LINK_DAYS = conf.env_int("SAFEHOLD_EXPORT_LINK_DAYS", 7, minimum=1)
SAFEHOLD_ERASURE_GRACE_DAYS = conf.env_int("SAFEHOLD_ERASURE_GRACE_DAYS", 14, minimum=0)
SAFEHOLD_RETAIN_UNVERIFIED_SIGNUPS_DAYS = conf.env_int(
    "SAFEHOLD_RETAIN_UNVERIFIED_SIGNUPS_DAYS", 7, minimum=1
)

# --- Operations (backups, incidents, maintenance) ---
# Where scheduled backups go, how often (hours; 0 switches the schedule off) and how
# many are kept: the newest of each of the last N days, weeks and months.
SAFEHOLD_BACKUP_DIR = conf.env_str("SAFEHOLD_BACKUP_DIR", str(DATA_DIR / "backups"))
SAFEHOLD_BACKUP_EVERY_HOURS = conf.env_int("SAFEHOLD_BACKUP_EVERY_HOURS", 24, minimum=0)
SAFEHOLD_BACKUP_KEEP_DAILY = conf.env_int("SAFEHOLD_BACKUP_KEEP_DAILY", 7, minimum=1)
SAFEHOLD_BACKUP_KEEP_WEEKLY = conf.env_int("SAFEHOLD_BACKUP_KEEP_WEEKLY", 4, minimum=0)
SAFEHOLD_BACKUP_KEEP_MONTHLY = conf.env_int("SAFEHOLD_BACKUP_KEEP_MONTHLY", 12, minimum=0)
# A new installation's first scheduled backup waits this long after it was set up.
SAFEHOLD_BACKUP_FIRST_DELAY_MINUTES = conf.env_int(
    "SAFEHOLD_BACKUP_FIRST_DELAY_MINUTES", 60, minimum=0
)
# Every crypto-shredded key id, appended outside the database; a restore re-applies them.
SAFEHOLD_ERASURE_LEDGER = conf.env_str("SAFEHOLD_ERASURE_LEDGER", str(DATA_DIR / "erasures.log"))
# Hours from an incident's discovery to the deadline for notifying the authority.
SAFEHOLD_INCIDENT_NOTIFY_HOURS = conf.env_int("SAFEHOLD_INCIDENT_NOTIFY_HOURS", 72, minimum=1)
