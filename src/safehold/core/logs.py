"""Log formatting that keeps personal data out of tracebacks."""

from __future__ import annotations

import logging
import traceback
from types import TracebackType


class RedactingFormatter(logging.Formatter):
    """Formats an exception as its traceback and type, without its message."""

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        kind, _value, tb = ei
        if kind is None:
            return ""
        frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
        name = f"{kind.__module__}.{kind.__qualname__}"
        return f"Traceback (most recent call last):\n{frames}{name}: (message withheld)"
