"""The privacy statement's pages and the acknowledgement check, in process.

Production settings on a fresh data directory (SQLite, local-memory cache), Django's
test client (no network: the figures are the server's own work). Versions 1 (the
default) and 2 (material, the whole default text with one cookie sentence changed) are
published; the person has acknowledged version 2, so every signed-in page runs the
check in full and is let through.

Measured in interleaved rounds, medians, against the home page (baseline) in the same
run:

- the statement (``/privacy/``), a diff of the two whole texts, the promise map (cached);
- a signed-in account page with and without ``AcknowledgementMiddleware``: the cost of
  the acknowledgement check on every page;
- running every promise check at once (what "Run the checks now" and
  ``safehold promises`` do), with the audit log as migrate and the bench left it.

    python bench/policy.py [--rounds 25]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import print_timings, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--per-round", type=int, default=20)
    args = parser.parse_args()
    setup_django("safehold-bench-policy-")

    from django.conf import settings
    from django.test import Client, override_settings

    from safehold.accounts.models import User
    from safehold.audit.services import Actor
    from safehold.policy import promise_map, services

    texts = services.default_texts()
    texts["en"] = texts["en"].replace("A cookie is a small file", "A cookie is a small text file")
    v2 = services.publish_version(
        services.create_draft(texts=texts, material=True), actor=Actor.system()
    )
    person = User.objects.create_user("bench", "bench@example.test", "a-long-bench-passphrase-1")
    person.date_joined = v2.effective_at.replace(year=2000)  # type: ignore[union-attr]  # published
    person.save(update_fields=["date_joined"])
    services.acknowledge(person, v2, actor=Actor.system())

    anonymous = Client(HTTP_HOST="localhost")
    signed_in = Client(HTTP_HOST="localhost")
    signed_in.force_login(person)
    without_ack = [
        m
        for m in settings.MIDDLEWARE
        if m != "safehold.policy.middleware.AcknowledgementMiddleware"
    ]

    def account_without_check() -> int:
        with override_settings(MIDDLEWARE=without_ack):
            return signed_in.get("/account/").status_code

    cases = {
        "home page (baseline)": lambda: anonymous.get("/").status_code,
        "/privacy/ (statement in force)": lambda: anonymous.get("/privacy/").status_code,
        "/privacy/diff/1...2/ (whole texts)": lambda: (
            anonymous.get("/privacy/diff/1...2/").status_code
        ),
        "/privacy/promises/ (cached results)": lambda: (
            anonymous.get("/privacy/promises/").status_code
        ),
        "/account/ signed in, without the acknowledgement check": account_without_check,
        "/account/ signed in, with the acknowledgement check": lambda: (
            signed_in.get("/account/").status_code
        ),
    }
    for name, case in cases.items():  # warm up, and check that each answers 200
        status = case()
        assert status == 200, (name, status)
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            for _ in range(args.per_round):
                case()
            results[name].append((time.perf_counter() - start) * 1000 / args.per_round)
    print_timings(results, "home page (baseline)", "home page", args.rounds, digits=2)

    fresh = []
    for _ in range(max(3, args.rounds // 5)):
        start = time.perf_counter()
        outcome = promise_map.results(fresh=True)
        fresh.append((time.perf_counter() - start) * 1000)
    checks = sum(len(c.rows) for c in outcome.clauses)
    print(
        f"every promise check run now ({checks} checks): median {statistics.median(fresh):.1f} ms"
    )


if __name__ == "__main__":
    main()
