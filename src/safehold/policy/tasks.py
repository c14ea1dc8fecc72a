"""Background work: the "new version" e-mails when a version takes effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from safehold.jobs import periodic, task
from safehold.policy import services


@task("policy.announce")
def announce(payload: dict[str, Any]) -> None:
    """E-mail opted-in people about one version; enqueued for its effective time."""
    services.send_announcements(int(payload["version_id"]))


@task("policy.announce-current")
def announce_current(payload: dict[str, Any]) -> None:
    """The sweep: whatever the version in force still owes (a missed job, a new opt-in)."""
    services.announce_current()


periodic("policy.announce-current", every=timedelta(minutes=15))
