"""The embed's one write, answered without the whole stack and committed in groups.

Every visitor of every embedding site sends ``POST /api/v1/consent/choices`` once, so
it is the request Safehold answers most often. Through the full stack (all of
``settings.MIDDLEWARE``, ninja's routing, a transaction per request) a choice cost about
four times a health check, and each was a durable transaction of its own: one fsync
per visitor (bench/README.md, "Consent").

``FastChoices`` wraps the WSGI application (``safehold.wsgi``) and answers the common
case itself: a JSON body that ``ChoiceIn`` accepts, whose categories are configured,
sent with a public site key (``sh_site_...``) that holds ``consent:write`` from an
origin the key allows (or with no Origin), with no ``Idempotency-Key``, no session
cookie and no query string, to a Host that Django accepts, while maintenance mode is
off. Every other request goes to Django untouched (with the body it read put back), so
every refusal is the full stack's own problem document with its stable code. The
checks are the full stack's own code (``ApiKeyAuth.authenticate``, ``ChoiceIn``,
``services.full_choices``), and the ones with no side effect run before the rate
limit counts the request, so a request handed on is counted once.

The answer passes through the middleware of ``settings.MIDDLEWARE`` that shape an API
answer (``ANSWER_MIDDLEWARE``: security headers, request id, the per-IP rate limit and
CORS, language, content length, frame and content-security policy), in their order, so
its headers are the full stack's (tests/consent/test_fastpath.py compares the two).

Group commit: the choice and its ``consent:recorded`` event go to the process's
committer thread, which saves every choice waiting at that moment in one transaction
(one INSERT of the records, one audit append for their events, one commit) and only
then lets each request answer. A 201 still means the choice is on disk; many choices
share one fsync and one move of the audit log's head. If the database refuses one
choice of a group, the others are saved one by one, so that one fails alone; if the
group fails for any other reason (the database gone, locked too long, a commit whose
outcome is unknown), its requests are answered 500 and never saved again through the
full stack, so a choice is never recorded twice.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, DataError, IntegrityError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from ninja.responses import NinjaJSONEncoder

from safehold.accounts.adapter import client_ip
from safehold.api import origins, ratelimit
from safehold.api.auth import ApiKeyAuth
from safehold.api.errors import JsonParser, problem_response
from safehold.api.scopes import Scope
from safehold.audit.events import ActorKind
from safehold.audit.services import Actor
from safehold.consent import services
from safehold.consent.api import ChoiceIn, choice_out
from safehold.consent.models import ConsentRecord

logger = logging.getLogger(__name__)

PATH = "/api/v1/consent/choices"
SITE_TOKEN_PREFIX = "sh_site_"  # noqa: S105  # the public kind of key, not a secret
# The middleware that shape an API answer. The others (sessions, sign-in, messages,
# Safehold's own pages, a transaction per request) have nothing to do for this request.
ANSWER_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "safehold.core.middleware.RequestIdMiddleware",
        "safehold.api.middleware.ApiMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
    }
)
#: At most this many choices in one transaction.
MAX_GROUP = 256
#: SQLite: seconds between the committer's background checkpoints.
CHECKPOINT_SECONDS = 0.25

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _HandOn(Exception):
    """Not the common case: the full stack answers."""


@dataclass
class _Accepted:
    """A request that passed every check that has no side effect."""

    key: Any  # safehold.api.models.ApiKey
    payload: ChoiceIn
    config: services.Config
    submitted: bool = False  # handed to the committer: never to the full stack after


# --- group commit ------------------------------------------------------------------------


@dataclass
class _Waiting:
    record: ConsentRecord
    actor: Actor
    row: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class NotSaved(Exception):
    """The group's transaction failed for a reason that is not one choice's (the
    database is unreachable, locked too long, or the commit's outcome is unknown):
    answered with a server error, never retried through the full stack, so that a
    choice whose commit did land is not recorded twice."""


#: Seconds a request waits for its group before it is answered with a server error (the
#: choice stays queued and is saved when the database answers again).
WAIT_SECONDS = 60.0


@dataclass
class _Generation:
    """One run of a committer's threads in one process (a fork or a stop starts another)."""

    pid: int
    queue: queue.SimpleQueue[_Waiting | None] = field(default_factory=queue.SimpleQueue)
    stopped: threading.Event = field(default_factory=threading.Event)


class Committer:
    """Saves the choices of all of a process's waiting requests in one transaction.

    One thread per process, started on first use (and again in a forked child: threads
    do not survive a fork).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: _Generation | None = None
        # Held by the thread around each group; tests hold it to make a group form.
        self.gate = threading.Lock()
        self.groups = 0
        self._tuned: object = None  # the connection told not to checkpoint on commit

    def save(self, record: ConsentRecord, actor: Actor) -> None:
        """Save ``record`` with its event; return once it is committed, or raise
        (``NotSaved``, ``TimeoutError``, or the database's refusal of this choice)."""
        waiting = _Waiting(record, actor, services.insert_values(record))
        self._started().queue.put(waiting)
        if not waiting.done.wait(WAIT_SECONDS):
            raise TimeoutError("the choice is still waiting for its group's commit")
        if waiting.error is not None:
            raise waiting.error

    def waiting(self) -> int:
        current = self._current
        return current.queue.qsize() if current is not None else 0

    def _started(self) -> _Generation:
        pid = os.getpid()
        current = self._current
        if current is not None and current.pid == pid:
            return current
        with self._lock:
            current = self._current
            if current is None or current.pid != pid:
                current = _Generation(pid)
                self._current = current
                for target, name in (
                    (self._run, "safehold-consent-commit"),
                    (self._checkpoint, "safehold-consent-checkpoint"),
                ):
                    threading.Thread(target=target, args=(current,), name=name, daemon=True).start()
            return current

    def stop(self) -> None:
        """End this process's committer threads after the choices already queued, closing
        their database connections (tests; a server's threads end with its process)."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None and current.pid == os.getpid():
            current.stopped.set()
            current.queue.put(None)

    def _run(self, generation: _Generation) -> None:
        while True:
            first = generation.queue.get()
            if first is None:
                connections.close_all()
                return
            group = [first]
            with self.gate:
                while len(group) < MAX_GROUP:
                    try:
                        waiting = generation.queue.get_nowait()
                    except queue.Empty:
                        break
                    if waiting is None:  # stop after this group
                        generation.queue.put(None)
                        break
                    group.append(waiting)
                try:
                    self._commit(group)
                except BaseException as exc:  # the thread must outlive any failure
                    logger.error("consent.commit_failed exception=%s", type(exc).__name__)
                    for waiting in group:
                        if not waiting.done.is_set():
                            waiting.error = NotSaved()
                            waiting.done.set()
                self.groups += 1

    def _checkpoint(self, generation: _Generation) -> None:
        """SQLite: move the write-ahead log into the database in the background.

        A commit that fills the log past SQLite's threshold copies it back and syncs the
        database file before it returns: with group commit that once-in-a-hundred
        commit held up every choice in its group and the next (most of the slowest
        1 %). So the committer's own connection does not checkpoint, and this thread
        does, passively (never waiting for or blocking a writer), four times a second
        while choices are being saved.
        """
        if connections["default"].vendor != "sqlite":
            return
        seen, failing = -1, False
        while not generation.stopped.wait(CHECKPOINT_SECONDS):
            if self.groups == seen:
                continue
            seen = self.groups
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                failing = False
            except Exception as exc:  # the next round tries again; said once
                if not failing:
                    logger.warning("consent.checkpoint_failed exception=%s", type(exc).__name__)
                failing = True
                connections["default"].close()
        connections.close_all()

    def _no_checkpoint_on_commit(self) -> None:
        """SQLite: the committer's connection leaves checkpoints to ``_checkpoint``."""
        connection = connections["default"]
        if connection.vendor != "sqlite":
            return
        connection.ensure_connection()
        if connection.connection is not self._tuned:
            connection.connection.execute("PRAGMA wal_autocheckpoint=0")
            self._tuned = connection.connection

    def _commit(self, group: list[_Waiting]) -> None:
        """Save ``group`` in one transaction. If the database refuses one of its choices
        (a constraint, a value it cannot store), the transaction was rolled back: save
        them one by one, so only that one fails. Any other failure fails them all with
        ``NotSaved``."""
        try:
            self._no_checkpoint_on_commit()
            with _write_turn():
                services.save_records([(w.record, w.actor) for w in group], [w.row for w in group])
        except (IntegrityError, DataError) as exc:
            if len(group) > 1:
                for waiting in group:
                    waiting.record.pk = None
                    self._commit([waiting])
                return
            group[0].error = exc
            group[0].done.set()
            return
        except Exception:
            logger.error("consent.group_not_saved choices=%d", len(group))
            connections["default"].close_if_unusable_or_obsolete()
            for waiting in group:
                waiting.error = NotSaved()
                waiting.done.set()
            return
        for waiting in group:
            waiting.done.set()


committer = Committer()

_turn_lock: tuple[int, int] | None = None  # (pid, file descriptor)


@contextmanager
def _write_turn() -> Iterator[None]:
    """On SQLite, the processes' committers take turns on a lock file in the data
    directory. The kernel wakes the next one the moment the file is free; SQLite's own
    busy handler would poll, sleeping up to 100 ms between tries, which is most of
    the slowest choices' time when two processes write at once."""
    global _turn_lock
    connection = connections["default"]
    if connection.vendor != "sqlite":
        yield
        return
    if _turn_lock is None or _turn_lock[0] != os.getpid():
        path = Path(settings.DATA_DIR) / "consent-commit.lock"
        _turn_lock = (os.getpid(), os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    fd = _turn_lock[1]
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


# --- the WSGI wrapper ----------------------------------------------------------------------

CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"


class _PolicyOnce(CSPMiddleware):
    """django-csp's middleware with its headers built once per process. This answer
    asks for no nonce, so they depend on the settings alone; building them was a
    third of the middleware's cost per choice."""

    _built: dict[str, str] | None = None

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if self._built is None:
            probe = HttpResponse(status=response.status_code)
            super().process_response(request, probe)
            self._built = {n: probe[n] for n in (HEADER, HEADER_REPORT_ONLY) if n in probe}
        for name, value in self._built.items():
            if name not in response:
                response[name] = value
        return response


class FastChoices:
    """WSGI: answer the embed's common case of recording a choice; pass the rest on."""

    def __init__(self, app: WSGIApp, *, committer: Committer = committer) -> None:
        self.app = app
        self.committer = committer
        handler: Callable[[HttpRequest], Any] = self._respond
        for path in reversed(settings.MIDDLEWARE):
            if path in ANSWER_MIDDLEWARE:
                middleware = _PolicyOnce if path == CSP_MIDDLEWARE else import_string(path)
                handler = middleware(handler)
        self._answer = handler

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or not settings.SAFEHOLD_CONSENT_FAST_PATH
        ):
            return self.app(environ, start_response)
        body = _read_body(environ)
        if body is None:
            return self.app(environ, start_response)
        request = WSGIRequest(environ)
        request._body = body  # Django's cache of the body, read above
        try:
            request.fast_choice = _accept(request, body)  # type: ignore[attr-defined]  # ours
            response = self._answer(request)
        except Exception as exc:
            accepted = getattr(request, "fast_choice", None)
            if accepted is not None and accepted.submitted:
                # Perhaps saved: never hand it on to be saved twice.
                logger.error("consent.fastpath.answer_failed exception=%s", type(exc).__name__)
                response = problem_response(request, "server.error", status=500)
            else:
                environ["wsgi.input"] = io.BytesIO(body)
                return self.app(environ, start_response)
        headers = [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
        ]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]

    def _respond(self, request: HttpRequest) -> HttpResponse:
        """The innermost handler: save the choice (with the group), then answer 201."""
        accepted: _Accepted = request.fast_choice  # type: ignore[attr-defined]  # set above
        # As Actor.from_request names a key's request, with the address worked out once.
        actor = Actor(
            ActorKind.API_KEY,
            str(accepted.key.pk),
            client_ip(request) or "",
            str(getattr(request, "request_id", "")),
        )
        payload = accepted.payload
        record = services.new_record(
            visitor_id=payload.visitor_id,
            choices=payload.choices,
            method=payload.method,
            gpc=payload.gpc,
            site=accepted.key,
            ip=actor.ip,
            language=payload.language,
            config=accepted.config,
        )
        accepted.submitted = True
        try:
            self.committer.save(record, actor)
        except (NotSaved, TimeoutError, DatabaseError):
            return problem_response(
                request, "server.error", "The choice could not be saved; try again.", status=500
            )
        # What ninja would render for ChoiceOut: choice_out's fields, in its order and types.
        response = HttpResponse(
            json.dumps(choice_out(record, accepted.config), cls=NinjaJSONEncoder),
            status=201,
            content_type="application/json; charset=utf-8",
        )
        # The full stack's session middleware marks every answer so.
        patch_vary_headers(response, ("Cookie",))
        return response


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The body, if its length is declared and allowed (it is put back for Django)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= settings.SAFEHOLD_CONSENT_MAX_BODY_BYTES:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body if len(body) == length else None


_auth = ApiKeyAuth(frozenset({Scope.CONSENT_WRITE}))
_json = JsonParser()


#: Seconds a process trusts the maintenance state it last read (which is itself
#: shared through the cache for ``MAINTENANCE_CACHE_SECONDS``).
MAINTENANCE_MEMO_SECONDS = 1.0
_maintenance_memo: tuple[float, bool] = (-1e9, False)


def _maintenance_on() -> bool:
    """Maintenance mode (safehold.ops), read through the shared cache once a second:
    reading the embedded default's file cache on every choice cost an eighth of it."""
    global _maintenance_memo
    from safehold.ops.services import maintenance_state

    now = time.monotonic()
    if now - _maintenance_memo[0] >= MAINTENANCE_MEMO_SECONDS:
        _maintenance_memo = (now, maintenance_state().is_on)
    return _maintenance_memo[1]


def _accept(request: HttpRequest, body: bytes) -> _Accepted:
    """The checks, in the full stack's own code; raises for anything but the common case."""
    meta = request.META
    if (
        meta.get("QUERY_STRING")
        or "HTTP_IDEMPOTENCY_KEY" in meta
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or request.content_type != "application/json"
    ):
        raise _HandOn
    request.get_host()  # DisallowedHost for a Host Django refuses
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        raise _HandOn
    scheme, _, token = meta.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(SITE_TOKEN_PREFIX):
        raise _HandOn  # server keys have a rate limit of their own: the full stack
    data = _json.parse_body(request)  # the API's own strict JSON (no repeated names...)
    if not isinstance(data, dict):
        raise _HandOn
    payload = ChoiceIn.model_validate(data)
    config = services.get_config()
    services.full_choices(config, choices=payload.choices)  # UnknownCategory
    if _maintenance_on():
        raise _HandOn
    # The per-IP limit before the key is looked up, as the full stack counts it first;
    # over it, the full stack answers the 429.
    if ratelimit.hit(f"ip:{client_ip(request) or 'unknown'}", settings.SAFEHOLD_API_RATE_IP):
        raise _HandOn
    request.api_rate_counted = True  # type: ignore[attr-defined]  # read by ApiMiddleware
    return _Accepted(_site_key(request, token), payload, config)


#: Seconds a process keeps a site key it has checked, as it keeps the site keys' CORS
#: origins (safehold.api.origins): a site key is public (it is in the embedding page),
#: and a key revoked or changed stops working here within this time.
SITE_KEY_MEMO_SECONDS = 1.0
_site_keys: dict[str, tuple[float, Any]] = {}


def _site_key(request: HttpRequest, token: str) -> Any:
    """The site key of ``token``, checked as the full stack checks it (the key, its
    scope, its origins) at most once a second; its expiry and the Origin every time."""
    now = time.monotonic()
    memo = _site_keys.get(token)
    if memo is None or now - memo[0] >= SITE_KEY_MEMO_SECONDS:
        api_key = _auth.authenticate(request, token).api_key
        if len(_site_keys) >= 1000:
            _site_keys.clear()
        _site_keys[token] = (now, api_key)
        return api_key
    api_key = memo[1]
    if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
        raise _HandOn
    origin = request.headers.get("Origin")
    if origin and not origins.key_allows(api_key, origin):
        raise _HandOn
    return api_key


def forget() -> None:
    """Forget the checked site keys and the maintenance state (after a change; tests)."""
    global _maintenance_memo
    _site_keys.clear()
    _maintenance_memo = (-1e9, False)


@contextmanager
def holding(committer: Committer = committer) -> Iterator[None]:
    """Keep ``committer`` from starting a group (tests: let a group form)."""
    with committer.gate:
        yield
