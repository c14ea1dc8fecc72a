"""Background work: the periodic review of non-disclosure orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from safehold.jobs import periodic, task


@task("sharing.review_orders")
def review_orders(payload: dict[str, Any]) -> None:
    """Remind legal-role staff of orders coming up for review, and tell each person whose
    order has lapsed. Idempotent: each reminder and notice is sent once."""
    from safehold.sharing import services

    services.review_orders()


periodic("sharing.review_orders", every=timedelta(hours=1))
