"""The sharing clause's live check for the promise map."""

from __future__ import annotations

import hmac

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safehold.core.promises import Result, Status


def check_disclosures_have_a_basis() -> Result:
    """Every disclosure has a matching consent or a recorded legal basis.

    - consent: the person's newest decision on that recipient-and-purpose *at the time
      of the disclosure* was a grant, and the recipient rests on consent;
    - legal: a legal request approved by someone other than its requester, with a
      valid approval signature, covering the released categories;
    - the other exceptions: the recipient rests on that exception and a justification
      was recorded;
    - and every ``share:released`` event in the audit log has its disclosure record.

    Disclosures of people since erased (their data key shredded) cannot be checked
    against consents that were erased with them and are counted apart.
    """
    from safehold.accounts.models import User
    from safehold.audit.models import Event
    from safehold.audit.services import EventRecord
    from safehold.sharing import services
    from safehold.sharing.models import Basis, Disclosure, ShareConsent

    checked = erased = 0
    broken: list[int] = []
    known: set[int] = set()
    for disclosure in Disclosure.objects.select_related(
        "user", "recipient", "legal_request"
    ).iterator():
        known.add(disclosure.pk)
        if services.is_shredded(disclosure.user):
            erased += 1
            continue
        checked += 1
        ok = False
        if disclosure.basis == Basis.CONSENT:
            state = (
                ShareConsent.objects.filter(
                    user=disclosure.user,
                    purpose_id=disclosure.purpose_id,
                    at__lte=disclosure.released_at,
                )
                .order_by("-at", "-id")
                .values_list("action", flat=True)
                .first()
            )
            ok = (
                disclosure.purpose_id is not None
                and disclosure.recipient is not None
                and disclosure.recipient.basis == Basis.CONSENT
                and state == ShareConsent.Action.GRANTED
            )
        elif disclosure.basis == Basis.LEGAL:
            request = disclosure.legal_request
            ok = (
                request is not None
                and request.person_id == disclosure.user_id
                and request.decided_by_id is not None
                and request.decided_by_id != request.requested_by_id
                and hmac.compare_digest(
                    request.approval_signature, services.approval_signature(request)
                )
                and set(disclosure.categories) <= set(request.categories)
            )
        elif disclosure.basis in Basis.values:
            ok = (
                disclosure.recipient is not None
                and disclosure.recipient.basis == disclosure.basis
                and bool(str(disclosure.justification).strip())
            )
        if not ok:
            broken.append(disclosure.pk)
    orphans = 0
    for data in Event.objects.filter(event_type="share:released").values_list("data", flat=True):
        record = EventRecord.from_bytes(bytes(data))
        if record.detail_dict.get("disclosure") in known:
            continue
        person = User.objects.filter(pk=record.subject_id or None).first()
        if person is None or services.is_shredded(person):
            erased += 1  # the person was erased, and their records with them
        else:
            orphans += 1
    if broken or orphans:
        return Result(
            Status.BROKEN,
            _(
                "%(broken)d disclosure(s) without a matching consent or legal basis "
                "(ids: %(ids)s); %(orphans)d release(s) in the audit log without a "
                "disclosure record."
            )
            % {
                "broken": len(broken),
                "ids": ", ".join(str(i) for i in broken[:20]) or "-",
                "orphans": orphans,
            },
        )
    detail = ngettext(
        "%(count)d disclosure checked: each has a consent or a recorded legal basis.",
        "%(count)d disclosures checked: each has a consent or a recorded legal basis.",
        checked,
    ) % {"count": checked}
    if erased:
        detail += " " + ngettext(
            "%(count)d more concerns an erased person.",
            "%(count)d more concern erased people.",
            erased,
        ) % {"count": erased}
    return Result(Status.HOLDS, detail)
