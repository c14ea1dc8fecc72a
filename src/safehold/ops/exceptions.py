"""Operations' domain errors: each message is one line an operator can act on."""

from __future__ import annotations


class OpsError(Exception):
    """Base class: the message is safe to show (no personal data)."""


class BackupError(OpsError):
    """A backup could not be made, read, verified or restored."""


class RestoreRefused(BackupError):
    """The target already holds data and --force was not given."""


class IncidentError(OpsError):
    """An incident step is not possible in the incident's state."""
