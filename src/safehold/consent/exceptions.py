"""Domain errors of the consent app."""

from __future__ import annotations


class ConsentError(Exception):
    """A choice cannot be recorded as asked; the message names why, never the visitor."""


class UnknownCategory(ConsentError):
    """The choice names a category that is not configured."""

    def __init__(self, slugs: list[str]) -> None:
        self.slugs = slugs
        super().__init__(f"unknown cookie categories: {', '.join(slugs)}")


class InvalidVisitorId(ConsentError):
    pass
