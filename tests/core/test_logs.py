import logging

from safehold.core.logs import RedactingFormatter


def test_tracebacks_in_logs_carry_no_exception_message() -> None:
    formatter = RedactingFormatter("%(message)s")
    address = "alice" + "@example.test"  # not in the source line the traceback quotes
    try:
        raise ValueError(f"duplicate key (email)=({address})")
    except ValueError:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error",
            None,
            exc_info=__import__("sys").exc_info(),
        )
    text = formatter.format(record)
    assert "alice@example.test" not in text
    assert "builtins.ValueError: (message withheld)" in text
    assert "test_tracebacks_in_logs_carry_no_exception_message" in text  # the frames stay
