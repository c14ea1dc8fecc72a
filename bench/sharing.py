"""The share gate over HTTP on a real `safehold serve` (gunicorn, SQLite), against an
authenticated read measured in the same run.

Starts Safehold in a fresh data directory, creates a server key (scopes keys:read and
share:request), one person, a consent-based recipient with one purpose and the
person's consent, then times in alternation from one kept-alive connection:

- ``GET /api/v1/me`` with the key: the baseline (key check, scope, rate limits);
- ``POST /api/v1/share`` that the gate releases: name and mailing address opened from
  the vault, the consent looked up, a disclosure row sealed, a ``share:released``
  audit event appended, all in one transaction;
- ``POST /api/v1/share`` that the gate refuses (a category the recipient may not
  receive): the request rolls back and the ``share:refused`` event is appended after.

    python bench/sharing.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import time

from _common import free_port, fresh_instance, print_timings, wait_until_serving

SETUP = """
from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.sharing import services
from safehold.sharing.models import Recipient, SharingPurpose
user = User.objects.create_user(username="nadia", email="nadia@example.test", password=None)
user.name = "Nadia Kaur"; user.mailing_address = "1 High St, Leeds"; user.save()
r = Recipient.objects.create(slug="fastpost", name="FastPost", country="CN",
    basis="consent", categories=["name", "mailing_address", "phone"])
p = SharingPurpose.objects.create(recipient=r, code="delivery", description="to deliver")
services.set_consent(user, p, grant=True, actor=Actor.system())
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    env, cmd, token = fresh_instance("keys:read,share:request")
    subprocess.run([*cmd, "shell", "-c", SETUP], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*cmd, "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    body = {"recipient": "fastpost", "person": "nadia", "purpose": "delivery", "basis": "consent"}
    release = json.dumps(body | {"categories": ["name", "mailing_address"]})
    refuse = json.dumps(body | {"categories": ["email"]})
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        wait_until_serving(connection)

        def call(method: str, path: str, payload: str | None, expect: int) -> float:
            headers = auth | ({"Content-Type": "application/json"} if payload else {})
            start = time.perf_counter()
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != expect:
                raise SystemExit(f"{method} {path} answered {response.status}, not {expect}")
            return elapsed

        requests = {
            "me (baseline)": ("GET", "/api/v1/me", None, 200),
            "share, released": ("POST", "/api/v1/share", release, 201),
            "share, refused": ("POST", "/api/v1/share", refuse, 403),
        }
        for spec in requests.values():  # warm up
            for _ in range(20):
                call(*spec)
        results: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(args.rounds):
            for name, spec in requests.items():
                results[name].append(call(*spec))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print_timings(results, "me (baseline)", "baseline", args.rounds, digits=2)


if __name__ == "__main__":
    main()
