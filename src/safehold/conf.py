"""Configuration from ``SAFEHOLD_*`` environment variables, and the data directory.

Nothing here imports Django, so the command line can prepare the data directory
before Django's settings are loaded.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

SECRET_KEY_FILE = "secret.key"  # noqa: S105  # a file name, not a secret
MASTER_KEY_FILE = "master.key"
MAIL_DIR = "mail"


class ConfigError(Exception):
    """A setting has a value Safehold cannot use; the message names the setting."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def data_dir() -> Path:
    """The data directory: ``SAFEHOLD_DATA_DIR``, else a per-user default.

    The default follows the XDG base directory convention:
    ``$XDG_DATA_HOME/safehold`` or ``~/.local/share/safehold``.
    """
    configured = env_str("SAFEHOLD_DATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    xdg = env_str("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return (base / "safehold").resolve()


def _write_private_file(path: Path, content: bytes) -> bool:
    """Create ``path`` readable and writable by its owner only (0600).

    Returns False, leaving the file alone, if it already exists: a key is never
    overwritten, since every encrypted value and signed session depends on it.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def ensure_data_dir(directory: Path | None = None) -> list[str]:
    """Create the data directory and its keys if they are missing.

    Returns the names of the files created, for the start-up report. The
    directory is 0700; the secret key and the master key are 0600.
    """
    directory = directory or data_dir()
    created: list[str] = []
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        created.append(str(directory))
    if not env_str("SAFEHOLD_SECRET_KEY") and _write_private_file(
        directory / SECRET_KEY_FILE, secrets.token_urlsafe(64).encode() + b"\n"
    ):
        created.append(SECRET_KEY_FILE)
    # The master key wraps the vault's key-encryption keys: 32 random bytes
    # (AES-256), stored base64-encoded.
    if not env_str("SAFEHOLD_MASTER_KEY") and _write_private_file(
        directory / MASTER_KEY_FILE, base64.b64encode(secrets.token_bytes(32)) + b"\n"
    ):
        created.append(MASTER_KEY_FILE)
    (directory / MAIL_DIR).mkdir(mode=0o700, exist_ok=True)
    return created


def read_secret_key(directory: Path) -> str:
    """The Django secret key: ``SAFEHOLD_SECRET_KEY`` or the key file."""
    from_env = env_str("SAFEHOLD_SECRET_KEY")
    if from_env:
        return from_env
    path = directory / SECRET_KEY_FILE
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        raise ConfigError(
            f"no secret key in {directory}: run `safehold init` (or `safehold serve`) first"
        ) from None
    if len(key) < 50:
        raise ConfigError(f"the secret key in {path} is too short (under 50 characters)")
    return key
