"""Contact form and staff inbox cost, in process (Django's test client, production settings,
SQLite or PostgreSQL), against the contact page itself as the baseline.

Times, interleaved round by round so the machine's load falls on every case alike:

- GET /contact/ (baseline: the form with its signed timestamp);
- POST /contact/ from an anonymous visitor: the IP and address rate limits, the form's
  checks, a new data key for the message, three sealed fields and a blind index, the
  audit event, and the acknowledgement written by the mail backend after the commit;
- GET /staff/inbox/ (one page of 50) with the inbox holding N messages;
- GET /staff/inbox/<reference>/: opening one message (unsealing, and the audited read).

    python bench/contact.py [--rounds 200] [--messages 2000] [--pg postgresql://...]

The rate limits and the minimum typing time are lifted for the run (they would refuse
a benchmark, which is their job); everything else is the production path.
"""

from __future__ import annotations

import argparse
import itertools
import re
import time

from _common import print_timings, setup_django

PASSWORD = "Bench-mark-passphrase-2026"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    setup_django("safehold-bench-contact-", args.pg)

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.test import Client

    from safehold.accounts.models import User
    from safehold.api.rates import Rate
    from safehold.audit.services import Actor
    from safehold.feedback import services
    from safehold.feedback.models import Category, ContactMessage

    settings.ALLOWED_HOSTS = ["*"]
    settings.SAFEHOLD_CONTACT_RATE_IP = Rate(10**9, 3600)
    settings.SAFEHOLD_CONTACT_RATE_EMAIL = Rate(10**9, 3600)
    settings.SAFEHOLD_CONTACT_MIN_SECONDS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    staff = User.objects.create_user(
        username="clerk",
        email="clerk@example.test",
        password=PASSWORD,
        is_staff=True,
        is_superuser=True,
    )
    EmailAddress.objects.create(user=staff, email=staff.email, primary=True, verified=True)
    for n in range(args.messages):
        services.send_message(
            sender=None,
            email=f"v{n}@example.test",
            name="A Visitor",
            category=Category.COMMENT,
            body="A message of a few lines about the privacy statement. " * 4,
            language="en",
            actor=Actor.system(),
        )
    reference = ContactMessage.objects.order_by("id").first().reference  # type: ignore[union-attr]

    visitor = Client()
    clerk = Client()
    assert (
        clerk.post("/accounts/login/", {"login": "clerk", "password": PASSWORD}).status_code == 302
    )
    stamp = re.compile(r'name="started" value="([^"]+)"')
    counter = itertools.count()

    def contact_page() -> None:
        assert visitor.get("/contact/").status_code == 200

    def send() -> None:
        page = visitor.get("/contact/").content.decode()
        n = next(counter)
        response = visitor.post(
            "/contact/",
            {
                "category": "suggestion",
                "email": f"bench{n}@example.test",
                "name": "Bench",
                "body": "Please explain how long you keep sign-in records. " * 4,
                "website": "",
                "started": stamp.search(page).group(1),  # type: ignore[union-attr]
            },
            REMOTE_ADDR=f"10.0.{n // 250}.{n % 250}",
        )
        assert response.status_code == 302, response.status_code

    def inbox() -> None:
        assert clerk.get("/staff/inbox/?status=open").status_code == 200

    def open_message() -> None:
        assert clerk.get(f"/staff/inbox/{reference}/").status_code == 200

    cases = {
        "GET /contact/ (baseline)": contact_page,
        "GET + POST /contact/ (send)": send,
        f"GET /staff/inbox/ (50 of {args.messages}+)": inbox,
        "GET /staff/inbox/<ref>/ (open, audited)": open_message,
    }
    for fn in cases.values():  # warm up
        fn()
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            results[name].append((time.perf_counter() - start) * 1000)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print_timings(results, "GET /contact/ (baseline)", "the contact page", args.rounds)


if __name__ == "__main__":
    main()
