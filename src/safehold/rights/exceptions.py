"""Domain errors of the rights app. Messages never hold personal data."""

from __future__ import annotations


class RightsError(Exception):
    """Base class."""


class PersonNotFound(RightsError):
    """No active, not-erased person has this id."""


class ExportNotAvailable(RightsError):
    """The export is not ready (yet), or it belongs to someone else."""


class ExportExpired(RightsError):
    """The export's link has expired and its archive was (or is about to be) removed."""


class CannotErase(RightsError):
    """This account may not be erased this way (an administrator's, say)."""
