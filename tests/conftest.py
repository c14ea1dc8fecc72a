"""Shared fixtures: users, a real SMTP sink, and the Redis check."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from django.core.cache import cache

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_PASSWORD = "a-Long-and-unusual-passphrase-93"


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"safehold: database={db} cache={cache_backend} ci={IN_CI}"]


@pytest.fixture(scope="session", autouse=True)
def _fresh_keystore() -> None:
    """A PostgreSQL key store outlives test runs: start each run with an empty one."""
    from django.conf import settings

    from safehold.vault import keys
    from safehold.vault.keystore import get_keystore

    store = get_keystore()
    if store.dialect == "postgresql":
        for table in ("safehold_vault_data_key", "safehold_vault_kek", "safehold_vault_secret"):
            store._execute(f"DELETE FROM {table}")  # noqa: S608  # fixed table names
    keys.forget_system_secrets()
    assert settings.SAFEHOLD_VAULT_KEYSTORE


@pytest.fixture(autouse=True)
def _audit_triggers(request: pytest.FixtureRequest) -> Iterator[None]:
    """The audit tables refuse DELETE, so a test that commits (transactional_db, the
    live server) would fail in Django's flush afterwards: lift the triggers just for
    that flush, and put them back for the next test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction", False))
    )
    if not transactional:
        yield
        return
    from django.db import connection

    from safehold.audit import triggers

    # Set up after the database fixture, so that this teardown runs before its flush.
    request.getfixturevalue("_django_db_helper")
    triggers.install(connection)
    yield
    triggers.remove(connection)  # flush follows (and its post_migrate puts them back)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Rate-limit counters live in the cache: every test starts with none."""
    cache.clear()


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs a missing server, except in CI, where it must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis URL (SAFEHOLD_TEST_REDIS_URL; in CI, the machine's Redis)."""
    url = os.environ.get("SAFEHOLD_TEST_REDIS_URL", "").strip()
    if not url and IN_CI:
        url = "redis://127.0.0.1:6379/15"
    if not url:
        pytest.skip(
            "Redis tests need SAFEHOLD_TEST_REDIS_URL (for example redis://127.0.0.1:6379/15)"
        )
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {url} is unreachable: {exc}")
    return url


# --- A real SMTP server that keeps what it receives ---------------------------------


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address.lower() in (m["To"] or "").lower()]

    def body(self, message: Message) -> str:
        if message.is_multipart():
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    return part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        return message.get_payload(decode=True).decode()  # type: ignore[union-attr]


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:  # type: ignore[no-untyped-def]
    """Mail goes by SMTP to a real server on 127.0.0.1 that keeps every message."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink(host="127.0.0.1", port=0)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # aiosmtpd's hook name
            with sink._lock:
                sink.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    import socket

    with socket.socket() as probe:  # aiosmtpd's readiness check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        sink.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


# --- People --------------------------------------------------------------------------------


@pytest.fixture
def make_user(db):  # type: ignore[no-untyped-def]
    """Create an active person with a verified primary e-mail address."""
    from allauth.account.models import EmailAddress

    from safehold.accounts.models import User

    def make(
        username: str = "alice", email: str | None = None, password: str = TEST_PASSWORD, **extra
    ):  # type: ignore[no-untyped-def]
        email = email or f"{username}@example.test"
        user = User.objects.create_user(username=username, email=email, password=password, **extra)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        return user

    return make


@pytest.fixture
def alice(make_user):  # type: ignore[no-untyped-def]
    return make_user("alice")


@pytest.fixture
def alice_client(client, alice):  # type: ignore[no-untyped-def]
    """A test client signed in as alice through the real sign-in form."""
    response = client.post("/accounts/login/", {"login": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client
