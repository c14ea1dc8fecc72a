"""The privacy statement's domain errors."""

from __future__ import annotations


class PolicyError(Exception):
    """Base of this app's errors. ``code`` is stable (API problem codes, tests)."""

    code = "statement-error"


class VersionImmutable(PolicyError):
    """A published version (or its text) cannot be changed or deleted: publish a new one."""

    code = "statement-version-immutable"

    def __init__(self, number: int | None) -> None:
        self.number = number
        super().__init__(f"version {number} is published and cannot be changed")


class NotPublishable(PolicyError):
    """A draft cannot be published as it is (already published, no English text...)."""

    code = "statement-not-publishable"


class NothingToAcknowledge(PolicyError):
    """The person has no version to acknowledge."""

    code = "statement-nothing-to-acknowledge"
