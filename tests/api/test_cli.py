"""`safehold apikey create | list | revoke`, as an operator runs them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import run_safehold

TOKEN = re.compile(r"^sh_live_([0-9a-f]{12})_[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "data"
    assert run_safehold(directory, "init").returncode == 0
    return directory


def test_create_prints_the_key_once_and_stores_its_hash(data_dir: Path) -> None:
    result = run_safehold(
        data_dir,
        "apikey", "create", "--name", "billing", "--scopes", "consent:read,keys:read",
        "--expires", "2999-01-01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    token = lines[-1]
    match = TOKEN.match(token)
    assert match, lines
    assert "'billing'" in lines[0]
    assert "consent:read, keys:read" in lines[0]
    assert "2999-01-01" in lines[0]
    assert "cannot show it again" in result.stdout

    with sqlite3.connect(data_dir / "safehold.sqlite3") as db:
        rows = db.execute("SELECT * FROM api_apikey").fetchall()
    dumped = repr(rows)
    secret = token.rsplit("_", 1)[1]
    assert token not in dumped
    assert secret not in dumped
    assert match.group(1) in dumped  # the prefix, to find and name the key

    listed = run_safehold(data_dir, "apikey", "list")
    assert listed.returncode == 0
    assert f"sh_live_{match.group(1)}_…" in listed.stdout
    assert secret not in listed.stdout
    assert "active" in listed.stdout


def test_revoke_then_list_shows_it_revoked(data_dir: Path) -> None:
    created = run_safehold(data_dir, "apikey", "create", "--name", "old", "--scopes", "keys:read")
    key_id = re.search(r"Created API key (\d+)", created.stdout).group(1)  # type: ignore[union-attr]
    result = run_safehold(data_dir, "apikey", "revoke", key_id)
    assert result.returncode == 0
    assert "Revoked API key" in result.stdout
    again = run_safehold(data_dir, "apikey", "revoke", key_id)
    assert again.returncode == 0
    assert "already revoked" in again.stdout
    row = next(
        line for line in run_safehold(data_dir, "apikey", "list").stdout.splitlines()
        if line.startswith(f"{key_id} ")
    )  # fmt: skip
    assert row.endswith("revoked")


def test_a_site_key_is_marked_as_such(data_dir: Path) -> None:
    result = run_safehold(
        data_dir, "apikey", "create", "--name", "www", "--kind", "site", "--scopes", "consent:write"
    )
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1].startswith("sh_site_")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--name", "x", "--scopes", "consent:eat"], "unknown scope 'consent:eat'"),
        (["create", "--name", "x", "--scopes", ","], "at least one scope"),
        (["create", "--name", " ", "--scopes", "keys:read"], "needs a name"),
        (
            ["create", "--name", "x", "--kind", "site", "--scopes", "export:request"],
            "site key may hold only consent:read, consent:write, not export:request",
        ),
        (["create", "--name", "x", "--scopes", "keys:read", "--expires", "2001-01-01"], "future"),
        (["create", "--name", "x", "--scopes", "keys:read", "--expires", "soon"], "--expires"),
        (["revoke", "99999"], "no API key with id 99999"),
    ],
)
def test_errors_are_one_line_and_a_nonzero_exit(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = run_safehold(data_dir, "apikey", *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert "sh_live_" not in result.stdout
