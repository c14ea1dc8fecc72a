"""Every kind of audit event, in one place. A value never changes meaning once shipped."""

# ruff: noqa: S105  # "password" in an event name is not a password

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    # Accounts
    SIGNED_UP = "account:signed-up"
    EMAIL_VERIFIED = "account:email:verified"
    EMAIL_ADDED = "account:email:added"
    EMAIL_REMOVED = "account:email:removed"
    EMAIL_PRIMARY_CHANGED = "account:email:primary-changed"
    SIGN_IN_SUCCEEDED = "account:sign-in:succeeded"
    SIGN_IN_FAILED = "account:sign-in:failed"
    SIGNED_OUT = "account:signed-out"
    PASSWORD_CHANGED = "account:password:changed"
    PASSWORD_RESET = "account:password:reset"
    PASSWORD_HINT_CHANGED = "account:password-hint:changed"
    PASSWORD_HINT_SENT = "account:password-hint:sent"
    PROFILE_UPDATED = "account:profile:updated"
    SESSIONS_SIGNED_OUT = "account:sessions:signed-out"
    # Second factors
    MFA_ADDED = "mfa:authenticator:added"
    MFA_REMOVED = "mfa:authenticator:removed"
    MFA_RECOVERY_CODES_RESET = "mfa:recovery-codes:reset"
    # Staff access to personal data
    PII_REVEALED = "pii:revealed"
    # The HTTP API
    API_KEY_CREATED = "api:key:created"
    API_KEY_REVOKED = "api:key:revoked"
    API_PERSONAL_DATA_READ = "api:personal-data:read"
    # The vault
    KEYS_ROTATED = "vault:keys:rotated"
    KEY_SHREDDED = "vault:key:shredded"
    # Each feature app adds its events below its own heading, and nowhere else.
    # Jobs
    RETENTION_PURGED = "retention:purged"
    JOBS_RETRIED = "jobs:retried"
    JOBS_ACKNOWLEDGED = "jobs:acknowledged"
    # Consent (consent:*)
    CONSENT_RECORDED = "consent:recorded"
    CONSENT_JOINED = "consent:joined"
    CONSENT_RECORDS_EXPORTED = "consent:records:exported"
    CONSENT_CATEGORY_CHANGED = "consent:category:changed"
    CONSENT_SITE_ORIGINS_CHANGED = "consent:site:origins-changed"
    # Privacy statement (statement:*)
    STATEMENT_PUBLISHED = "statement:published"
    STATEMENT_ACKNOWLEDGED = "statement:acknowledged"
    STATEMENT_NOTICES_CHANGED = "statement:notices:changed"
    # Contact (contact:*)
    CONTACT_MESSAGE_SENT = "contact:message:sent"
    CONTACT_MESSAGE_READ = "contact:message:read"
    CONTACT_MESSAGE_REPLIED = "contact:message:replied"
    CONTACT_MESSAGE_ASSIGNED = "contact:message:assigned"
    CONTACT_MESSAGE_STATUS_CHANGED = "contact:message:status-changed"
    CONTACT_NOTE_ADDED = "contact:note:added"
    # Sharing (share:*)
    SHARE_RELEASED = "share:released"
    SHARE_REFUSED = "share:refused"
    SHARE_CONSENT_GRANTED = "share:consent:granted"
    SHARE_CONSENT_WITHDRAWN = "share:consent:withdrawn"
    SHARE_LEGAL_RECORDED = "share:legal:recorded"
    SHARE_LEGAL_APPROVED = "share:legal:approved"
    SHARE_LEGAL_REJECTED = "share:legal:rejected"
    SHARE_LEGAL_APPROVAL_REFUSED = "share:legal:approval-refused"
    SHARE_LEGAL_DOCUMENT_READ = "share:legal:document-read"
    SHARE_LEGAL_ORDER_CHANGED = "share:legal:order-changed"
    SHARE_LEGAL_ORDER_REMINDED = "share:legal:order-reminded"
    SHARE_PERSON_NOTIFIED = "share:person-notified"
    # Activity (activity:*, payment:*, device:*)
    PAYMENT_SUCCEEDED = "payment:succeeded"
    PAYMENT_DECLINED = "payment:declined"
    DEVICE_RENAMED = "device:renamed"
    DEVICE_FORGOTTEN = "device:forgotten"
    DEVICE_SIGNED_OUT = "device:signed-out"
    # Your data (export:*, erasure:*, retention:*)
    EXPORT_REQUESTED = "export:requested"
    EXPORT_READY = "export:ready"
    EXPORT_FAILED = "export:failed"
    EXPORT_DOWNLOADED = "export:downloaded"
    ERASURE_REQUESTED = "erasure:requested"
    ERASURE_CANCELLED = "erasure:cancelled"
    ERASURE_COMPLETED = "erasure:completed"
    # (retention:purged is recorded by the worker's retention job: RETENTION_PURGED above)
    # Operations (backup:*, restore:*, incident:*, maintenance:*)
    BACKUP_MADE = "backup:made"
    BACKUP_FAILED = "backup:failed"
    BACKUP_VERIFIED = "backup:verified"
    BACKUP_VERIFY_FAILED = "backup:verify-failed"
    BACKUP_PRUNED = "backup:pruned"
    RESTORE_COMPLETED = "restore:completed"
    RESTORE_ERASURE_REAPPLIED = "restore:erasure-reapplied"
    INCIDENT_OPENED = "incident:opened"
    INCIDENT_UPDATED = "incident:updated"
    INCIDENT_PERSON_ADDED = "incident:person-added"
    INCIDENT_NOTICE_SENT = "incident:notice-sent"
    INCIDENT_AUTHORITY_NOTIFIED = "incident:authority-notified"
    INCIDENT_CLOSED = "incident:closed"
    INCIDENT_EXPORTED = "incident:timeline-exported"
    MAINTENANCE_ON = "maintenance:on"
    MAINTENANCE_OFF = "maintenance:off"


#: Events a person sees on "who accessed my data and why": access by someone else.
ACCESS_EVENTS = frozenset({EventType.PII_REVEALED, EventType.API_PERSONAL_DATA_READ})


class ActorKind(StrEnum):
    PERSON = "person"  # someone acting on their own account
    STAFF = "staff"  # a staff member acting on someone else's data
    API_KEY = "api-key"
    SYSTEM = "system"  # Safehold itself, or an operator at the command line
    ANONYMOUS = "anonymous"  # not signed in (a failed sign-in, a hint request)


class Purpose(StrEnum):
    SUPPORT = "support"
    LEGAL = "legal"
    SECURITY = "security"
    OTHER = "other"
