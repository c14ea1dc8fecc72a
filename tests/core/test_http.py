"""Headers, error pages and limits every page must respect."""

from __future__ import annotations

import re

import pytest
from django.test import Client

PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/account/password-hint/send/",
]
ACCOUNT_PAGES = [
    "/account/",
    "/account/profile/",
    "/account/password-hint/",
    "/account/sessions/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
]
# Anything fetched by a page: src=, href= of stylesheets, srcset, form actions, url().
_FETCHED = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']([^"']+)["']|url\(([^)]+)\)""", re.I)


def _external_references(html: str) -> list[str]:
    found = []
    for match in _FETCHED.finditer(html):
        url = (match.group(1) or match.group(2) or "").strip("'\" ")
        if url.startswith("mailto:"):
            continue
        if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I) and not url.startswith(
            ("http://testserver/", "//testserver/")
        ):
            found.append(url)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_strict_headers_and_load_nothing_from_elsewhere(
    client: Client, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    assert _external_references(html) == []
    # No inline script: every <script> either loads a same-origin file or is JSON data.
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert "src=" in tag or "application/json" in tag, tag


def test_the_external_reference_detector_catches_a_cdn() -> None:
    html = (
        '<link rel="stylesheet" href="https://cdn.example.com/x.css"><img src="//evil.test/p.gif">'
    )
    assert len(_external_references(html)) == 2


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_account_pages_are_never_cached(alice_client: Client, path: str) -> None:
    response = alice_client.get(path, follow=True)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert _external_references(response.content.decode()) == []


@pytest.mark.django_db
def test_account_pages_need_sign_in(client: Client) -> None:
    for path in ["/account/", "/account/profile/", "/account/sessions/", "/account/password-hint/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_unknown_page_is_a_plain_404_without_a_traceback(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_oversized_body_is_refused_with_400_and_saves_nothing(client: Client) -> None:
    from safehold.accounts.models import User

    big = "x" * (1024 * 1024 + 10)
    response = client.post(
        "/accounts/signup/",
        {"username": "mallory", "email": "m@example.test", "password1": big, "password2": big},
    )
    assert response.status_code == 400
    assert b"Traceback" not in response.content
    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused_with_a_clear_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "alice", "password": "whatever-it-is"})
    assert response.status_code == 403
    assert b"Form expired" in response.content


@pytest.mark.django_db
def test_malformed_form_post_gets_a_form_error_not_a_crash(client: Client) -> None:
    response = client.post(
        "/accounts/login/",
        data=b"\xff\xfe%%%&&&=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 400)
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_request_id_is_echoed(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    # A client's own id is ignored (it would go into the audit log) ...
    response = client.get("/", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert response["X-Request-ID"] != "abcdef0123456789"
    # ... a trusted proxy's is kept.
    settings.SAFEHOLD_TRUSTED_PROXY_COUNT = 1
    response = client.get("/", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert response["X-Request-ID"] == "abcdef0123456789"
    response = client.get("/", HTTP_X_REQUEST_ID="<script>")
    assert re.fullmatch(r"[0-9a-f]{16}", response["X-Request-ID"])


def test_hsts_and_secure_cookies_under_https(settings) -> None:  # type: ignore[no-untyped-def]
    """SAFEHOLD_HTTPS=true turns on what plain-HTTP localhost cannot have."""
    import importlib
    import os

    import safehold.settings as production

    os.environ["SAFEHOLD_HTTPS"] = "true"
    try:
        reloaded = importlib.reload(production)
        assert reloaded.SECURE_HSTS_SECONDS >= 31_536_000
        assert reloaded.SECURE_SSL_REDIRECT is True
        assert reloaded.SESSION_COOKIE_SECURE is True
        assert reloaded.CSRF_COOKIE_SECURE is True
        assert reloaded.SESSION_COOKIE_NAME.startswith("__Host-")
        assert reloaded.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is False
        # Plain HTTP on a public name: the passkey origin check stays on.
        del os.environ["SAFEHOLD_HTTPS"]
        os.environ["SAFEHOLD_ALLOWED_HOSTS"] = "accounts.example.com,localhost"
        assert importlib.reload(production).MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is False
        del os.environ["SAFEHOLD_ALLOWED_HOSTS"]
        assert importlib.reload(production).MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is True
    finally:
        os.environ.pop("SAFEHOLD_HTTPS", None)
        os.environ.pop("SAFEHOLD_ALLOWED_HOSTS", None)
        importlib.reload(production)
