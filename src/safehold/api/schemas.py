"""Base classes for the API's request bodies."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class InputSchema(Schema):
    """A request body: unknown fields are refused (422 naming them), types are strict
    (``true`` is not a number, ``"5"`` is not an integer), and no string is longer
    than 10,000 characters unless its field says less.

    A field that was misspelt must not be silently dropped: the caller would
    believe it was recorded. Strict types read JSON as it is; a field whose JSON form
    is a string (a date-time, a UUID, a decimal) says ``Field(strict=False)`` so
    that its string is parsed.
    """

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=10_000)
