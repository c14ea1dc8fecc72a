"""Domain errors of the sharing app, and the gate's refusal reasons.

The gate does not raise for a refused disclosure: it returns a ``Refusal`` whose
``reason`` is one of ``Reason`` (stable strings, also the API's ``share.<reason>``
problem codes). The exceptions below are for the staff workflow of legal requests.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why the gate refused. A value never changes meaning once shipped."""

    UNKNOWN_RECIPIENT = "unknown_recipient"
    UNKNOWN_PERSON = "unknown_person"
    NO_CATEGORIES = "no_categories"
    UNKNOWN_CATEGORY = "unknown_category"
    CATEGORY_NOT_ALLOWED = "category_not_allowed"
    CATEGORY_UNAVAILABLE = "category_unavailable"
    UNKNOWN_PURPOSE = "unknown_purpose"
    BASIS_NOT_ALLOWED = "basis_not_allowed"
    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    JUSTIFICATION_MISSING = "justification_missing"
    APPROVAL_MISSING = "approval_missing"
    APPROVAL_EXPIRED = "approval_expired"
    APPROVAL_FORGED = "approval_forged"
    ALREADY_RELEASED = "already_released"
    OUTSIDE_APPROVED_SCOPE = "outside_approved_scope"


#: What each reason means, for people (staff pages, the API's problem documents).
REASON_TEXT: dict[Reason, str] = {
    Reason.UNKNOWN_RECIPIENT: "No active recipient in the registry has this identifier.",
    Reason.UNKNOWN_PERSON: "No active account matches this person.",
    Reason.NO_CATEGORIES: "No data category was asked for.",
    Reason.UNKNOWN_CATEGORY: "A category asked for is not a known data category.",
    Reason.CATEGORY_NOT_ALLOWED: "The recipient may not receive a category asked for.",
    Reason.CATEGORY_UNAVAILABLE: "A category asked for is not held on this installation.",
    Reason.UNKNOWN_PURPOSE: "The recipient has no purpose with this identifier.",
    Reason.BASIS_NOT_ALLOWED: "This recipient's sharing does not rest on the basis given.",
    Reason.NO_CONSENT: "The person has not consented to this recipient and purpose.",
    Reason.CONSENT_WITHDRAWN: "The person withdrew consent to this recipient and purpose.",
    Reason.JUSTIFICATION_MISSING: "A disclosure under an exception needs a justification.",
    Reason.APPROVAL_MISSING: "A legal disclosure needs a legal request approved by a second "
    "legal-role staff member.",
    Reason.APPROVAL_EXPIRED: "The legal request's approval has expired; approve it again.",
    Reason.APPROVAL_FORGED: "The legal request's approval is not valid (the requester cannot "
    "approve, and the approval must match the request's scope).",
    Reason.ALREADY_RELEASED: "This legal request has been released already.",
    Reason.OUTSIDE_APPROVED_SCOPE: "The disclosure asked for is outside the approved scope.",
}


class SharingError(Exception):
    """A staff action on legal requests that cannot be done; the message says why."""


class SelfApproval(SharingError):
    """The two-person rule: whoever recorded a legal request cannot approve it."""


class NotLegalStaff(SharingError):
    """The staff member lacks the legal role (``sharing.approve_legal_request``)."""


class InvalidLegalRequest(SharingError):
    """The request's fields are incomplete or invalid (the message names which)."""


class WrongState(SharingError):
    """The request is not in a state that allows this action (already decided or released)."""
