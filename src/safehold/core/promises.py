"""The promise map's registry: each promise of the statement, and its live check.

A feature app registers its checks in ``AppConfig.ready()``::

    from safehold.core import promises

    promises.register(
        "no-plaintext",                      # stable id, never reused
        clause="security",                   # which clause of the statement (CLAUSES)
        title=_("No personal field is stored in plain text"),
        check=check_no_plaintext,            # () -> promises.Result
    )

A check returns ``Result(Status.HOLDS | Status.BROKEN | Status.NOT_CHECKED,
detail)``; an exception in a check counts as BROKEN with the exception's kind, never
as passing. A promise whose capability has not landed is registered with
``check=None`` and shows "not yet checked".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise as LazyStr
from django.utils.translation import gettext_lazy as _


class Status(StrEnum):
    HOLDS = "holds"
    BROKEN = "broken"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class Result:
    status: Status
    detail: str | LazyStr = ""


#: The statement's clauses, in its order: id -> short title. Promises point at these.
CLAUSES: dict[str, str | LazyStr] = {
    "collection": _("The personal information we collect"),
    "passwords": _("Passwords and authentication information"),
    "transactions": _("Transaction data: access and payments"),
    "devices": _("Device data: IP address, browser and operating system"),
    "security": _("Confidentiality and security"),
    "no-perfect-security": _("No security is perfect"),
    "cookies": _("Cookies, and your right to accept or reject them"),
    "sharing": _("No sharing with third parties without consent"),
    "own-server": _("Stored on our own server"),
    "your-password": _("Protecting your password"),
    "updates": _("Updates to this statement"),
    "contact": _("Contact us"),
}


@dataclass(frozen=True)
class PromiseCheck:
    id: str
    clause: str
    title: str | LazyStr
    check: Callable[[], Result] | None
    order: int = 100

    def run(self) -> Result:
        if self.check is None:
            return Result(Status.NOT_CHECKED, _("This capability has not landed yet."))
        try:
            result = self.check()
        except Exception as exc:  # a crashing check is a broken promise, not a pass
            return Result(Status.BROKEN, f"the check failed: {type(exc).__name__}")
        if not isinstance(result, Result):
            return Result(Status.BROKEN, "the check returned no result")
        return result


_registry: dict[str, PromiseCheck] = {}


def register(
    promise_id: str,
    *,
    clause: str,
    title: str | LazyStr,
    check: Callable[[], Result] | None,
    order: int = 100,
) -> None:
    if clause not in CLAUSES:
        raise ValueError(f"unknown clause {clause!r}")
    _registry[promise_id] = PromiseCheck(promise_id, clause, title, check, order)


def all_promises() -> list[PromiseCheck]:
    clause_order = list(CLAUSES)
    return sorted(_registry.values(), key=lambda p: (clause_order.index(p.clause), p.order, p.id))


def get(promise_id: str) -> PromiseCheck | None:
    return _registry.get(promise_id)
