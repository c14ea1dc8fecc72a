"""The embed's choices answered in front of the full stack (safehold.consent.fastpath):
the same answer, headers and records as the full stack; everything else handed to it;
choices waiting together saved in one transaction; a real `safehold serve` with two
workers recording choices sent at once, with a log that verifies."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.test import RequestFactory
from django.test.client import ClientHandler

from safehold.api import origins
from safehold.api import services as api_services
from safehold.audit.events import ActorKind
from safehold.audit.models import Event
from safehold.audit.services import Actor, EventRecord
from safehold.audit.verify import verify_log
from safehold.consent import fastpath, services
from safehold.consent.models import ConsentRecord
from safehold.ops import services as ops
from tests.helpers import free_port, run_safehold, serving

pytestmark = pytest.mark.usefixtures("default_categories")
SITE = "https://www.example.test"
URL = "/api/v1/consent/choices"
CHOICE = {"visitor_id": "visitor_0123456789abcdef", "choices": {"analytics": True}}


class FullStack:
    """The whole Django stack as a WSGI application, counting the requests it gets
    (Django's test handler, so that no request closes the test's database connection)."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.calls += 1
        response = self.handler(environ)
        headers = [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
        ]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


class Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def environ(token: str | None, body: object = CHOICE, **extra: Any) -> dict[str, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    content_type = extra.pop("content_type", "application/json")
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    request: WSGIRequest = RequestFactory().post(URL, data=data, content_type=content_type, **extra)
    return request.environ


def call(app: Callable[..., Any], env: dict[str, Any]) -> Answer:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), headers

    body = b"".join(app(env, start_response))
    return Answer(seen["status"], seen["headers"], body)


@pytest.fixture(autouse=True)
def _fresh_memos() -> Iterator[None]:
    fastpath.forget()
    yield
    fastpath.forget()


@pytest.fixture
def site_token(make_key) -> str:  # type: ignore[no-untyped-def]
    issued = make_key("consent:read", "consent:write", kind="site", name="www")
    origins.set_allowed_origins(issued.api_key.pk, [SITE], actor=Actor.system())
    origins.forget()
    return str(issued.token)


@pytest.fixture
def committer() -> Iterator[fastpath.Committer]:
    """A committer of the test's own, stopped after it (closing its connection)."""
    made = fastpath.Committer()
    yield made
    made.stop()


@pytest.fixture
def apps(committer: fastpath.Committer) -> tuple[FullStack, fastpath.FastChoices]:
    """(the full stack alone, the fast path in front of another full stack)."""
    return FullStack(), fastpath.FastChoices(FullStack(), committer=committer)


def _as_one_group(committer: fastpath.Committer, work: Callable[[int], None], count: int) -> int:
    """Run ``work(0)`` .. ``work(count - 1)`` in threads while ``committer`` is held, until
    one waits inside it and the rest in its queue; then let it go. Returns how many
    groups it had saved before. Each thread closes its own database connection."""

    def run(n: int) -> None:
        try:
            work(n)
        finally:
            connections.close_all()

    with fastpath.holding(committer):
        threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while committer.waiting() < count - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        groups_before = committer.groups
    for thread in threads:
        thread.join(timeout=10)
    return groups_before


# Headers whose value differs from one answer to the next.
PER_ANSWER = {"x-request-id", "content-length"}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"HTTP_ORIGIN": SITE, "HTTP_ACCEPT_LANGUAGE": "zh-hans,zh;q=0.9"},
        {"HTTP_ORIGIN": SITE, "wsgi.url_scheme": "https", "SERVER_PORT": "443"},
    ],
    ids=["plain", "allowed-origin-chinese", "https"],
)
def test_the_answer_is_the_full_stacks(committer, site_token, settings, extra) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_HSTS_SECONDS = 3600  # sent on HTTPS answers: compared too
    full, fast = FullStack(), fastpath.FastChoices(FullStack(), committer=committer)
    slow = call(full, environ(site_token, **extra))
    quick = call(fast, environ(site_token, **extra))
    assert full.calls == 1
    assert fast.app.calls == 0  # type: ignore[attr-defined]  # a FullStack
    assert slow.status == quick.status == 201
    assert set(slow.headers) == set(quick.headers)
    for name in set(slow.headers) - PER_ANSWER - {"vary"}:
        assert slow.headers[name] == quick.headers[name], name
    vary = {v.strip() for v in slow.headers["vary"].split(",")}
    assert vary == {v.strip() for v in quick.headers["vary"].split(",")}
    if "HTTP_ORIGIN" in extra:
        assert quick.headers["access-control-allow-origin"] == SITE
    if extra.get("wsgi.url_scheme") == "https":
        assert "strict-transport-security" in quick.headers
    slow_body, quick_body = slow.json(), quick.json()
    assert quick_body["id"] == slow_body["id"] + 1
    for body in (slow_body, quick_body):
        del body["id"], body["recorded_at"]
    assert slow_body == quick_body


def test_the_choice_is_recorded_and_audited_as_the_full_stack_does(apps, site_token) -> None:  # type: ignore[no-untyped-def]
    _full, fast = apps
    answer = call(fast, environ(site_token, HTTP_ORIGIN=SITE, REMOTE_ADDR="203.0.113.7"))
    assert answer.status == 201
    record = ConsentRecord.objects.get(pk=answer.json()["id"])
    assert record.site_id == api_services.authenticate_key(site_token).pk
    assert record.ip_network == "203.0.113.0/24"
    assert record.method == "api"
    assert record.choices["analytics"] is True
    event = Event.objects.get(event_type="consent:recorded")
    assert event.subject_id == ""
    recorded = EventRecord.from_bytes(event.data)
    assert recorded.actor_kind == ActorKind.API_KEY
    assert recorded.actor_id == str(record.site_id)
    assert recorded.request_id == answer.headers["x-request-id"]
    assert recorded.detail_dict == {
        "record": record.pk,
        "method": "api",
        "allowed": ["analytics", "necessary"],
        "gpc": False,
        "site": record.site_id,
    }
    assert verify_log().ok


def _server_token(make_key) -> str:  # type: ignore[no-untyped-def]
    return str(make_key("consent:write").token)


# (what is different, the status the full stack answers, whether it records the choice)
HANDED_ON: list[tuple[str, dict[str, Any], int, bool]] = [
    ("malformed JSON", {"body": b'{"visitor_id": '}, 400, False),
    (
        "a repeated member name",
        {
            "body": b'{"visitor_id": "visitor_0123456789abcdef", "choices": {"analytics": true, '
            b'"analytics": false}}'
        },
        400,
        False,
    ),
    ("UTF-16", {"body": json.dumps(CHOICE).encode("utf-16")}, 400, False),
    ("not an object", {"body": [1, 2]}, 422, False),
    ("unknown category", {"body": {**CHOICE, "choices": {"tracking": True}}}, 422, False),
    ("unknown field", {"body": {**CHOICE, "colour": "red"}}, 422, False),
    ("a string for a boolean", {"body": {**CHOICE, "gpc": "yes"}}, 422, False),
    ("not JSON", {"content_type": "text/plain"}, 415, False),
    ("no key", {"token": None}, 401, False),
    ("an unknown key", {"token": "sh_site_000000000000_" + "0" * 64}, 401, False),
    ("another origin", {"HTTP_ORIGIN": "https://elsewhere.test"}, 403, False),
    ("too large", {"body": {**CHOICE, "language": "x" * 20_000}}, 413, False),
    ("a server key", {"token": "server"}, 201, True),
    ("an Idempotency-Key", {"HTTP_IDEMPOTENCY_KEY": "retry-0001"}, 201, True),
    ("a query string", {"QUERY_STRING": "from=banner"}, 201, True),
    ("a session cookie", {"HTTP_COOKIE": "sessionid=abc"}, 201, True),
]


@pytest.mark.parametrize(
    ("change", "status", "records"), [c[1:] for c in HANDED_ON], ids=[c[0] for c in HANDED_ON]
)
def test_anything_else_is_answered_by_the_full_stack(  # type: ignore[no-untyped-def]
    apps, site_token, make_key, change, status, records
) -> None:
    full, fast = apps
    change = dict(change)
    token = change.pop("token", site_token)
    if token == "server":
        token = _server_token(make_key)
    body = change.pop("body", CHOICE)
    before = ConsentRecord.objects.count()
    answer = call(fast, environ(token, body, **change))
    assert fast.app.calls == 1  # type: ignore[attr-defined]  # handed on, once
    assert answer.status == status, answer.body
    assert ConsentRecord.objects.count() == before + (1 if records else 0)
    if status >= 400:
        # The full stack's own problem document, with its stable code.
        again = call(full, environ(token, body, **change))
        assert answer.json()["code"] == again.json()["code"]
        assert answer.headers["content-type"] == "application/problem+json"


def test_maintenance_mode_is_the_full_stacks_to_answer(apps, site_token) -> None:  # type: ignore[no-untyped-def]
    _full, fast = apps
    ops.set_maintenance(True, actor=Actor.system())
    answer = call(fast, environ(site_token))
    assert answer.status == 503
    assert answer.json()["code"] == "maintenance"
    assert fast.app.calls == 1  # type: ignore[attr-defined]  # handed on
    assert not ConsentRecord.objects.exists()


def test_choices_waiting_together_are_saved_in_one_transaction(committer, site_token) -> None:  # type: ignore[no-untyped-def]
    fast = fastpath.FastChoices(FullStack(), committer=committer)
    assert call(fast, environ(site_token)).status == 201  # checks the key once, for all
    answers: list[Answer] = []

    def send(n: int) -> None:
        visitor = f"visitor_{n:02d}_0123456789abcdef"
        answers.append(call(fast, environ(site_token, {**CHOICE, "visitor_id": visitor})))

    groups_before = _as_one_group(committer, send, 10)
    assert [a.status for a in answers] == [201] * 10
    assert committer.groups == groups_before + 1  # one transaction for the ten
    assert fast.app.calls == 0  # type: ignore[attr-defined]
    ids = sorted(a.json()["id"] for a in answers)
    assert ids == list(range(ids[0], ids[0] + 10))
    events = Event.objects.filter(event_type="consent:recorded").order_by("seq")
    assert events.count() == 11
    # One audit append: the ten events share its time.
    assert len({e.occurred_at for e in list(events)[1:]}) == 1
    assert verify_log().ok


def test_a_bad_choice_in_a_group_fails_alone(committer, site_token) -> None:  # type: ignore[no-untyped-def]
    key = api_services.authenticate_key(site_token)
    actor = Actor(ActorKind.API_KEY, str(key.pk), "198.51.100.4", "0123456789abcdef")
    results: dict[int, BaseException | None] = {}

    def save(n: int) -> None:
        record = services.new_record(
            visitor_id=f"visitor_{n:02d}_0123456789abcdef",
            choices={"analytics": True},
            method="banner",
            site=key,
        )
        if n == 2:
            record.site_id = 999_999  # no such key: the database refuses it at commit
        try:
            committer.save(record, actor)
            results[n] = None
        except Exception as exc:
            results[n] = exc

    groups_before = _as_one_group(committer, save, 4)
    assert committer.groups == groups_before + 1  # one group, retried one by one within
    assert results[2] is not None
    assert [results[n] for n in (0, 1, 3)] == [None, None, None]
    assert ConsentRecord.objects.count() == 3
    assert Event.objects.filter(event_type="consent:recorded").count() == 3
    assert verify_log().ok


def _post(base: str, token: str, visitor: str) -> tuple[int, dict[str, str]]:
    body = json.dumps({"visitor_id": visitor, "choices": {"analytics": True}}).encode()
    request = urllib.request.Request(
        base + URL,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


@pytest.mark.usefixtures("transactional_db")
def test_a_real_server_with_two_workers_records_choices_sent_at_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run_safehold(data_dir, "init").returncode == 0
    created = run_safehold(
        data_dir, "apikey", "create", "--name", "www", "--kind", "site", "--scopes", "consent:write"
    )
    token = created.stdout.strip().splitlines()[-1]
    statuses: list[int] = []
    headers: list[dict[str, str]] = []
    with serving(data_dir, workers=2) as base:

        def send(n: int) -> None:
            for i in range(5):
                status, seen = _post(base, token, f"visitor_{n:02d}_{i}_0123456789abcd")
                statuses.append(status)
                headers.append(seen)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert statuses == [201] * 120
    assert all(h["X-Content-Type-Options"] == "nosniff" for h in headers)
    assert all(h["Cache-Control"] == "no-store" for h in headers)
    with sqlite3.connect(data_dir / "safehold.sqlite3") as db:
        (records,) = db.execute("SELECT count(*) FROM consent_consentrecord").fetchone()
        (events,) = db.execute(
            "SELECT count(*) FROM audit_event WHERE event_type = 'consent:recorded'"
        ).fetchone()
    assert records == events == 120
    verify = run_safehold(data_dir, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    import socket

    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_safehold(tmp_path / "data", "serve", "--port", str(port))
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"), [("SAFEHOLD_THREADS", "many"), ("SAFEHOLD_REUSE_PORT", "maybe")]
)
def test_serve_names_a_bad_server_setting_in_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run_safehold(
        tmp_path / "data", "serve", "--port", str(free_port()), **{variable: value}
    )
    assert result.returncode != 0
    assert variable in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_group_the_database_fails_is_answered_with_an_error_not_retried(  # type: ignore[no-untyped-def]
    apps, site_token, monkeypatch
) -> None:
    """The database failing (not refusing one choice) may have committed or not: the
    answer is a server error, and the full stack is not asked to save it again."""
    from django.db import OperationalError

    _full, fast = apps
    real = services.save_records

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("the database went away")

    monkeypatch.setattr(services, "save_records", unreachable)
    answer = call(fast, environ(site_token))
    assert answer.status == 500
    assert answer.json()["code"] == "server.error"
    assert answer.headers["x-content-type-options"] == "nosniff"  # through the chain
    assert fast.app.calls == 0  # type: ignore[attr-defined]  # not handed on
    assert not ConsentRecord.objects.exists()
    monkeypatch.setattr(services, "save_records", real)
    assert call(fast, environ(site_token)).status == 201  # the committer lives on


def test_the_per_ip_limit_counts_a_fast_choice_once(apps, site_token, settings) -> None:  # type: ignore[no-untyped-def]
    from safehold.api.rates import Rate

    settings.SAFEHOLD_API_RATE_IP = Rate(3, 60)
    _full, fast = apps
    statuses = [call(fast, environ(site_token, REMOTE_ADDR="192.0.2.44")).status for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert fast.app.calls == 1  # type: ignore[attr-defined]  # the refusal is the full stack's
