"""The operator docs keep up with the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_in_the_code_is_documented() -> None:
    used = set()
    for path in (ROOT / "src" / "safehold").rglob("*.py"):
        used |= set(re.findall(r"SAFEHOLD_[A-Z_]+", path.read_text()))
    used -= {name for name in used if name.endswith("_")}
    documented = set(
        re.findall(r"`(SAFEHOLD_[A-Z_]+)`", (ROOT / "docs" / "configuration.md").read_text())
    )
    # Settings that only exist inside settings.py (derived, not read from the environment).
    derived = {"SAFEHOLD_TEST_REDIS_URL"}
    assert sorted(used - documented - derived) == []
