"""The ``safehold`` command: Django's management commands plus the operator verbs.

``safehold serve`` runs the production server, ``safehold init`` prepares the data
directory and database, ``safehold createadmin`` makes the first administrator;
every other Django command (``check``, ``migrate``, ``shell``...) works as usual.
Errors are one line on standard error and a non-zero exit, never a traceback
(pass ``--traceback`` to see one).
"""

from __future__ import annotations

import os
import sys

# Commands that must not create anything in the data directory.
_NO_BOOTSTRAP = {"help", "--help", "-h", "version", "--version"}


def _fail(message: str, code: int = 1) -> None:
    print(f"safehold: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _describe(exc: BaseException) -> str:
    """A one-line description of an unexpected error, without personal data.

    Integrity and data errors can quote the offending values (PostgreSQL does),
    so only their kind is shown.
    """
    from django.core.exceptions import ValidationError
    from django.db import DataError, IntegrityError

    kind = type(exc).__name__
    if isinstance(exc, IntegrityError | DataError | ValidationError):
        return f"{kind}: the values were refused (run with --traceback for details)"
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{kind}: {first_line}" if first_line else kind


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "safehold"
    # Everything Safehold writes (database, WAL, keys, mail, cache) is its owner's alone.
    os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safehold.settings")

    from safehold import conf

    command = argv[1] if len(argv) > 1 else "help"
    try:
        if command not in _NO_BOOTSTRAP:
            conf.ensure_data_dir()
        import django

        django.setup()
    except conf.ConfigError as exc:
        _fail(str(exc), 2)
    except OSError as exc:
        _fail(f"cannot prepare the data directory: {exc.strerror} ({exc.filename})", 2)
    except Exception as exc:
        if "--traceback" in argv:
            raise
        _fail(f"cannot start: {_describe(exc)}", 2)

    from django.core.management import execute_from_command_line, get_commands

    if (
        command not in get_commands()
        and not command.startswith("-")
        and command not in _NO_BOOTSTRAP
    ):
        _fail(f"unknown command {command!r}: `safehold help` lists the commands")

    try:
        execute_from_command_line(argv)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as exc:
        if "--traceback" in argv:
            raise
        _fail(_describe(exc))


if __name__ == "__main__":
    main()
