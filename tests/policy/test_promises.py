"""The promise map: /privacy/promises, `safehold promises`, and the checks themselves."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from safehold.core import promises
from safehold.core.promises import Result, Status
from safehold.policy import promise_map
from tests.helpers import run_safehold

pytestmark = pytest.mark.django_db

ARGON2_FIRST = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]


def _run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("promises", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def only(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace the registry with just the given promises (other apps' checks aside)."""

    def use(*ids: str, extra: dict[str, promises.PromiseCheck] | None = None) -> None:
        kept = {i: promises._registry[i] for i in ids}
        kept.update(extra or {})
        monkeypatch.setattr(promises, "_registry", kept)

    return use


def test_the_command_exits_non_zero_when_a_real_check_is_broken(settings, make_user, only) -> None:  # type: ignore[no-untyped-def]
    only("passwords-argon2id", "statement-published")
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    code, out = _run()
    assert code == 0, out
    assert "HOLDS" in out
    assert "BROKEN" not in out

    from django.contrib.auth.hashers import make_password

    legacy = make_user("legacy")
    legacy.password = make_password("an old password", hasher="md5")  # an outdated hash
    legacy.save(update_fields=["password"])
    code, out = _run()
    assert code == 1
    line = next(x for x in out.splitlines() if "passwords-argon2id" in x)
    assert "BROKEN" in line
    assert "1 stored passwords are not argon2id hashes." in out
    assert "1 hold, 1 broken, 0 not yet checked" in out


def test_a_capability_not_landed_is_not_yet_checked_never_passing(only) -> None:  # type: ignore[no-untyped-def]
    only(
        "statement-published",
        extra={
            "backup-verified": promises.PromiseCheck(
                "backup-verified", "security", "Backups are verified", None
            )
        },
    )
    code, out = _run("--json")
    assert code == 0
    data = json.loads(out)
    security = next(c for c in data["clauses"] if c["id"] == "security")
    assert security["promises"] == [
        {
            "id": "backup-verified",
            "title": "Backups are verified",
            "status": "not-checked",
            "detail": "This capability has not landed yet.",
        }
    ]
    # Every clause of the statement is listed, with or without a check.
    assert [c["id"] for c in data["clauses"]] == list(promises.CLAUSES)


def test_a_crashing_check_is_broken(only) -> None:  # type: ignore[no-untyped-def]
    def crash() -> Result:
        raise RuntimeError("boom")

    only(extra={"crash": promises.PromiseCheck("crash", "sharing", "Crashes", crash)})
    code, out = _run()
    assert code == 1
    assert "RuntimeError" in out


def test_the_page_shows_clauses_beside_their_results_and_staff_can_run_them_now(
    client, settings, make_user, only
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import TEST_PASSWORD

    flip = {"status": Status.HOLDS}
    only(
        "statement-published",
        extra={
            "flip": promises.PromiseCheck(
                "flip", "sharing", "Flips", lambda: Result(flip["status"], "as told")
            )
        },
    )
    page = client.get("/privacy/promises/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "No sharing with third parties without consent" in html
    assert 'id="promise-flip"' in html
    assert "HOLDS" in html
    assert "NOT YET CHECKED" in html  # clauses with no check at all
    assert 'href="/privacy/#sharing"' in html

    flip["status"] = Status.BROKEN
    assert "BROKEN" not in client.get("/privacy/promises/").content.decode()  # cached
    assert client.post("/privacy/promises/").status_code == 403  # only staff run them
    make_user("staffer", is_staff=True)
    client.post("/accounts/login/", {"login": "staffer", "password": TEST_PASSWORD})
    assert client.post("/privacy/promises/").status_code == 302
    assert "BROKEN" in client.get("/privacy/promises/").content.decode()


def test_the_checks_hold_on_a_fresh_installation(settings) -> None:
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    result = promise_map.results(fresh=True)
    ours = {
        r.id: r
        for c in result.clauses
        for r in c.rows
        if r.id
        in {
            "passwords-argon2id",
            "no-plaintext",
            "audit-log-verifies",
            "no-third-party-host",
            "statement-published",
            "statement-updates-acknowledged",
        }
    }
    assert len(ours) == 6
    assert {i: r.status for i, r in ours.items() if r.status != Status.HOLDS} == {}


def test_a_personal_field_written_in_plain_text_is_found(alice) -> None:
    from safehold.vault.checks import check_no_plaintext

    assert check_no_plaintext().status == Status.HOLDS
    with connection.cursor() as cursor:  # around the vault, as a careless migration might
        cursor.execute(
            "UPDATE accounts_user SET phone = %s WHERE id = %s", [b"+8613812345678", alice.pk]
        )
    result = check_no_plaintext()
    assert result.status == Status.BROKEN
    assert "accounts_user.phone" in str(result.detail)
    assert "+86" not in str(result.detail)  # never the value itself


def test_a_csp_that_allows_another_host_breaks_the_promise(settings) -> None:
    from safehold.policy.checks import check_no_third_party_host

    assert check_no_third_party_host().status == Status.HOLDS
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "font-src": ["'self'", "fonts.example.com"]}
    }
    result = check_no_third_party_host()
    assert result.status == Status.BROKEN
    assert "fonts.example.com" in str(result.detail)


def test_a_template_that_loads_from_another_host_breaks_the_promise(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from safehold.policy.checks import check_no_third_party_host

    (tmp_path / "bad.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    result = check_no_third_party_host()
    assert result.status == Status.BROKEN
    assert "bad.html" in str(result.detail)


def test_safehold_init_then_promises_on_a_fresh_data_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    init = run_safehold(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    answer = run_safehold(tmp_path, "promises", "--json")
    data = json.loads(answer.stdout)
    rows = {p["id"]: p for c in data["clauses"] for p in c["promises"]}
    for promise_id in (
        "passwords-argon2id",
        "no-plaintext",
        "audit-log-verifies",
        "no-third-party-host",
        "statement-published",
    ):
        assert rows[promise_id]["status"] == "holds", rows[promise_id]
    assert "Version 1 is in force" in rows["statement-published"]["detail"]
    broken = [i for i, p in rows.items() if p["status"] == "broken"]
    assert answer.returncode == (1 if broken else 0), (broken, answer.stderr)


def test_the_promise_map_speaks_chinese(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ARGON2_FIRST
    html = client.get("/privacy/promises/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我们的承诺及其核查" in html
    assert "密码只以 argon2id 哈希值保存" in html
    assert "0 个密码，全部为 argon2id。" in html  # noqa: RUF001  # Chinese punctuation
    assert "兑现" in html


def test_weak_password_rules_break_the_password_promise(settings) -> None:
    from safehold.accounts.checks import check_password_protection

    assert check_password_protection().status == Status.HOLDS
    settings.AUTH_PASSWORD_VALIDATORS = [
        v
        for v in settings.AUTH_PASSWORD_VALIDATORS
        if not v["NAME"].endswith("MinimumLengthValidator")
    ]
    result = check_password_protection()
    assert result.status == Status.BROKEN
    assert "shorter than 10" in str(result.detail)
