"""The job queue's domain errors."""

from __future__ import annotations


class PermanentFailure(Exception):
    """Raised by a task that must not be retried (the job is marked failed at once).

    ``public_message`` is shown to staff in the job's ``last_error``: it must hold
    no personal data (say what kind of thing went wrong, with ids at most).
    """

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class RetentionFailed(Exception):
    """One or more retention rules failed; the others ran. Names the rules only."""

    def __init__(self, rules: list[str]) -> None:
        super().__init__(f"retention rules failed: {', '.join(rules)}")
        self.rules = rules
