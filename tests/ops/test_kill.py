"""Crash safety: the real server is killed with SIGKILL at random moments during a load of
writes; every write that got a success response is there afterwards, and the database
and key store pass SQLite's integrity check."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import requests

from tests.conftest import TEST_PASSWORD
from tests.helpers import SAFEHOLD, free_port, safehold_env

PEOPLE = 3
ROUNDS = 3


def _start(instance, port: int) -> subprocess.Popen:  # type: ignore[no-untyped-def,type-arg]
    proc = subprocess.Popen(  # our own command
        [*SAFEHOLD, "serve", "--port", str(port), "--workers", "1"],
        env=safehold_env(instance.data_dir, **instance.env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches master and worker
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).ok:
                return proc
        except requests.RequestException:
            pass
        assert proc.poll() is None, "serve exited"
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


def _kill(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    token = _csrf(session, f"{base}/accounts/login/")
    response = session.post(
        f"{base}/accounts/login/",
        data={"login": username, "password": TEST_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.status_code
    return session


def test_no_acknowledged_write_is_lost_when_the_server_is_killed(make_instance) -> None:  # type: ignore[no-untyped-def]
    instance = make_instance("crash")
    instance.shell(f"people({PEOPLE}, {TEST_PASSWORD!r})")
    usernames = [f"k{i}" for i in range(PEOPLE)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    acked: dict[str, list[str]] = {name: [] for name in usernames}
    attempted: dict[str, list[str]] = {name: [] for name in usernames}
    sessions: dict[str, requests.Session] = {}
    rng = random.Random(20261125)  # noqa: S311  # test timing, not security
    counter = 0
    lock = threading.Lock()

    for round_no in range(ROUNDS):
        proc = _start(instance, port)
        for name in usernames:
            if name not in sessions:  # sessions live in the database: they survive the kill
                sessions[name] = _sign_in(base, name)
        stop = threading.Event()

        def load(name: str, stop: threading.Event = stop) -> None:
            nonlocal counter
            session = sessions[name]
            while not stop.is_set():
                try:
                    token = _csrf(session, f"{base}/account/profile/")
                except (requests.RequestException, AssertionError):
                    return
                with lock:
                    counter += 1
                    value = f"{name}-{counter}"
                attempted[name].append(value)
                try:
                    response = session.post(
                        f"{base}/account/profile/",
                        data={
                            "name": value,
                            "mailing_address": "",
                            "phone": "",
                            "csrfmiddlewaretoken": token,
                        },
                        headers={"Referer": f"{base}/account/profile/"},
                        allow_redirects=False,
                        timeout=10,
                    )
                except requests.RequestException:
                    return  # killed mid-request: not acknowledged
                if response.status_code == 302:
                    acked[name].append(value)

        threads = [threading.Thread(target=load, args=(name,)) for name in usernames]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.6, 2.0))
        _kill(proc)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert sum(len(v) for v in acked.values()) > round_no, "the load made no writes"

    state = instance.shell(f"profile_state({','.join(usernames)!r})")
    for name in usernames:
        if not acked[name]:
            continue
        last = acked[name][-1]
        # The last acknowledged value is there, or a later one that committed just before
        # the kill and whose answer was lost: never an earlier one.
        later = attempted[name][attempted[name].index(last) :]
        assert state[name]["name"] in later, (name, state[name]["name"], last)
        # Each acknowledged update recorded its audit event in the same transaction.
        assert state[name]["events"] >= len(acked[name])

    for path in (instance.data_dir / "safehold.sqlite3", instance.data_dir / "vault-keys.sqlite3"):
        conn = sqlite3.connect(Path(path))
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            conn.close()
    instance.ok("audit", "verify")
