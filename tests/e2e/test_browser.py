"""End to end in a real browser: a person's whole first week with an account.

Debian's Chromium, driven by Playwright, against the live server, with mail going
by SMTP to a real sink. The journey: sign up and verify the e-mail address from
the mail; sign in by user name on one device and by e-mail on another; add a
passkey on the second device (a CDP virtual authenticator); correct the profile
(phone stored in E.164, a wrong number refused with a visible error); turn on an
authenticator app (TOTP codes from pyotp, an independent client) and sign in
again through the second factor; sign the second device out from the session
list; and come back on that device with the passkey alone.

Throughout, every request of every page must go to the live server (no CDN, font,
captcha or analytics host) and the Content-Security-Policy must block nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI

try:
    import pyotp
    from playwright.sync_api import BrowserContext, CDPSession, Locator, Page, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip(
        "browser tests need playwright and pyotp (pip install -e '.[test]')",
        allow_module_level=True,
    )

from tests.e2e.conftest import Recorder

if TYPE_CHECKING:
    from tests.conftest import SmtpSink


USERNAME = "wei.zhang"
EMAIL = "wei.zhang@example.test"
# Long, not common, not like the user name: passes every password validator.
PASSWORD = "Copper-kettle-on-the-Huangpu-71"

NAME = "Zhang Wei"
ADDRESS = "Room 1201, 99 Example Road\nPudong, Shanghai 200120"
PHONE_TYPED = "+86 138 0013 8000"
PHONE_E164 = "+8613800138000"
PHONE_SHOWN = "+86 138 0013 8000"


# --- Helpers ---------------------------------------------------------------------------------


def field(page: Page, label: str) -> Locator:
    """The form field labelled ``label`` (Django's labels may end in a colon or "(optional)")."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?( \(optional\))?\s*$"))


def expect_path(page: Page, path: str) -> None:
    expect(page).to_have_url(re.compile(rf"^[^?#]*//[^/]+{re.escape(path)}(\?.*)?$"))


def verification_link(smtp_sink: SmtpSink, address: str, origin: str) -> str:
    """The confirmation link from the (only) verification mail sent to ``address``."""
    deadline = time.monotonic() + 10
    while not (messages := smtp_sink.to(address)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(messages) == 1, f"expected one verification mail, got {len(messages)}"
    body = smtp_sink.body(messages[0])
    links = re.findall(r"https?://\S+/accounts/confirm-email/\S+/", body)
    assert len(links) == 1, body
    assert links[0].startswith(origin + "/"), f"the link {links[0]} does not point at {origin}"
    return links[0]


def fresh_totp_code(totp: pyotp.TOTP, used: set[str]) -> str:
    """A code for the current 30 s step that has not been used, with time left to submit it.

    allauth (tolerance 0) accepts only the current step's code and refuses a code a
    second time within its step, so wait for the next step when the current code was
    used already or is about to expire. The activation code counts as used too: allauth
    does not mark it today, but a test that relied on that would break if it did.
    """
    deadline = time.time() + 2 * totp.interval + 5
    while time.time() < deadline:
        now = time.time()
        remaining = totp.interval - now % totp.interval
        code = totp.at(now)
        if code not in used and remaining > 4:
            used.add(code)
            return code
        time.sleep(remaining + 0.2)
    raise AssertionError("no fresh TOTP code")  # pragma: no cover - the clock stopped


def sign_in(page: Page, origin: str, login: str, password: str = PASSWORD) -> None:
    """Fill allauth's sign-in form; the caller checks where it lands (account or 2FA stage)."""
    page.goto(f"{origin}/accounts/login/")
    field(page, "Login").fill(login)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign In", exact=True).click()


def sign_out(page: Page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def reauthenticate_if_asked(page: Page, password: str = PASSWORD) -> None:
    """Confirm the password if allauth asks (it does before any change to the second factors,
    however recent the sign-in)."""
    page.wait_for_load_state()
    if "/reauthenticate/" in page.url:
        expect(page.get_by_role("heading", level=1, name="Confirm Access")).to_be_visible()
        field(page, "Password").fill(password)
        page.get_by_role("button", name="Confirm").click()


def expect_account_centre(page: Page) -> None:
    expect_path(page, "/account/")
    expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()


def entry(page: Page, section: str, term: str) -> Locator:
    """The value (``<dd>``) of ``term`` in the account centre's ``section`` (a labelled region)."""
    term_cell = (
        page.get_by_role("region", name=section)
        .get_by_role("term")
        .filter(has_text=re.compile(rf"^\s*{re.escape(term)}\s*$"))
    )
    return term_cell.locator("xpath=following-sibling::dd[1]")


def details(page: Page, term: str) -> str:
    """The text of the account centre's "Your details" entry called ``term``."""
    return entry(page, "Your details", term).inner_text()


def add_virtual_authenticator(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with user verification, that answers without a prompt."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


def virtual_credentials(cdp: CDPSession, authenticator_id: str) -> list[dict[str, Any]]:
    result = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    return list(result["credentials"])


def stored_profile(user: Any) -> tuple[str, str, str]:
    """The profile as the database holds it now."""
    user.refresh_from_db()
    return (user.name, user.mailing_address, user.phone)


# --- The journey -----------------------------------------------------------------------------


def test_recorder_flags_requests_to_other_hosts() -> None:
    """The guard of step 9 can fail: another host, scheme or port is foreign."""
    recorder = Recorder()
    origin = "http://localhost:8123"
    for url in (
        f"{origin}/static/safehold/site.css",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "https://fonts.googleapis.com/css2?family=Inter",
        "http://127.0.0.1:8123/",
        "http://localhost:9999/",
    ):
        recorder.requests.append(url)
    assert recorder.foreign_requests(origin) == [
        "https://fonts.googleapis.com/css2?family=Inter",
        "http://127.0.0.1:8123/",
        "http://localhost:9999/",
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_up_profile_second_factors_sessions_and_passkey(
    live_server, smtp_sink: SmtpSink, new_context: Callable[[], BrowserContext], recorder: Recorder
) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from safehold.accounts.models import SignedInSession, User

    origin = live_server.url
    assert urlsplit(origin).hostname == "localhost", "WebAuthn needs http://localhost"

    def step_done() -> None:
        """Fail at the step that caused it, not at the end."""
        assert recorder.server_errors == []
        assert recorder.page_errors == []
        assert recorder.csp_violations() == []

    # 1. Sign up; the verification mail's link, confirmed with the button (not on GET).
    laptop = new_context()
    page = laptop.new_page()
    response = page.goto(f"{origin}/accounts/signup/")
    assert response is not None
    assert "default-src 'self'" in (response.header_value("content-security-policy") or "")
    field(page, "Username").fill(USERNAME)
    field(page, "Email").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1, name="Verify Your Email Address")).to_be_visible()
    assert not EmailAddress.objects.get(email=EMAIL).verified

    page.goto(verification_link(smtp_sink, EMAIL, origin))
    expect(page.get_by_role("heading", level=1, name="Confirm Email Address")).to_be_visible()
    assert not EmailAddress.objects.get(email=EMAIL).verified, "confirmed on GET"
    page.get_by_role("button", name="Confirm").click()
    expect_path(page, "/accounts/login/")
    expect(page.get_by_role("status")).to_contain_text(f"You have confirmed {EMAIL}")
    assert EmailAddress.objects.get(email=EMAIL).verified
    step_done()

    # 2. Sign in by user name on the laptop.
    sign_in(page, origin, USERNAME)
    expect_account_centre(page)
    assert details(page, "User name") == USERNAME
    step_done()

    # 3. Sign in by e-mail on a phone (another context: other cookies), with a
    #    virtual platform authenticator, and add a passkey there.
    phone = new_context()
    phone_page = phone.new_page()
    cdp, authenticator_id = add_virtual_authenticator(phone, phone_page)
    sign_in(phone_page, origin, EMAIL)
    expect_account_centre(phone_page)

    phone_page.goto(f"{origin}/accounts/2fa/webauthn/add/")
    reauthenticate_if_asked(phone_page)
    expect(phone_page.get_by_role("heading", level=1, name="Add Security Key")).to_be_visible()
    field(phone_page, "Name").fill("Phone passkey")
    field(phone_page, "Passwordless").check()
    phone_page.get_by_role("button", name="Add", exact=True).click()
    # The first second factor comes with recovery codes.
    expect_path(phone_page, "/accounts/2fa/recovery-codes/")
    expect(phone_page.get_by_role("status")).to_contain_text("Security key added.")
    expect(field(phone_page, "Unused codes")).to_be_visible()

    credentials = virtual_credentials(cdp, authenticator_id)
    assert len(credentials) == 1
    assert credentials[0]["isResidentCredential"], "a passkey is a discoverable credential"
    assert credentials[0]["rpId"] == "localhost"
    user = User.objects.get(username=USERNAME)
    passkey = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert passkey.data["name"] == "Phone passkey"
    assert passkey.wrap().is_passwordless, "stored as a resident (passwordless) credential"
    step_done()

    # 4. Correct the profile on the laptop.
    page.goto(f"{origin}/account/profile/")
    field(page, "Name").fill(NAME)
    field(page, "Mailing address").fill(ADDRESS)
    field(page, "Phone").fill(PHONE_TYPED)
    page.get_by_role("button", name="Save").click()
    expect_account_centre(page)
    expect(page.get_by_role("status")).to_contain_text("Your profile has been saved.")
    assert details(page, "Name") == NAME
    assert details(page, "Mailing address") == ADDRESS
    assert details(page, "Phone") == PHONE_SHOWN
    assert stored_profile(user) == (NAME, ADDRESS, PHONE_E164)

    # A number that cannot exist is refused, visibly, and nothing changes.
    page.goto(f"{origin}/account/profile/")
    phone_field = field(page, "Phone")
    expect(phone_field).to_have_value(PHONE_SHOWN)
    field(page, "Name").fill("Somebody Else")
    phone_field.fill("+86 123")
    page.get_by_role("button", name="Save").click()
    expect_path(page, "/account/profile/")
    expect(page.get_by_role("alert")).to_have_text("Enter a valid phone number.")
    expect(phone_field).to_have_attribute("aria-invalid", "true")
    assert stored_profile(user) == (NAME, ADDRESS, PHONE_E164)
    page.goto(f"{origin}/account/")
    assert details(page, "Name") == NAME
    assert details(page, "Phone") == PHONE_SHOWN
    step_done()

    # 5. Turn on an authenticator app on the laptop: the secret is shown as text and
    #    as a QR code (an SVG data: URI, which the CSP allows for images only).
    page.goto(f"{origin}/accounts/2fa/totp/activate/")
    reauthenticate_if_asked(page)
    expect(page.get_by_role("heading", level=1, name="Activate Authenticator App")).to_be_visible()
    secret = field(page, "Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    qr = page.get_by_role("img", name=secret)
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code did not render"

    totp = pyotp.TOTP(secret)
    used_codes: set[str] = set()
    field(page, "Authenticator code").fill(fresh_totp_code(totp, used_codes))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status")).to_contain_text("Authenticator app activated.")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    step_done()

    # 6. Sign out and in again: the password alone is not enough any more.
    sign_out(page)
    sign_in(page, origin, USERNAME)
    expect(page.get_by_role("heading", level=1, name="Two-Factor Authentication")).to_be_visible()
    # Not signed in until the second factor: the account centre sends back to the stage.
    page.goto(f"{origin}/account/")
    expect_path(page, "/accounts/2fa/authenticate/")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    field(page, "Code").fill(fresh_totp_code(totp, used_codes))
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect_account_centre(page)
    expect(entry(page, "Security", "Authenticator app")).to_have_text("On")
    expect(entry(page, "Security", "Passkeys or security keys")).to_have_text("On")
    expect(entry(page, "Security", "Recovery codes")).to_have_text("On")
    expect(entry(page, "Security", "Signed-in sessions")).to_have_text("2")
    step_done()

    # 7. The laptop signs the phone out from the session list.
    page.goto(f"{origin}/account/sessions/")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="This browser")).to_have_count(1)
    other = rows.filter(has_not_text="This browser")
    expect(other.get_by_role("cell").first).to_contain_text("Chrome")  # browser parsed from the UA
    other.get_by_role("button", name=re.compile(r"^Sign out ")).click()
    expect(page.get_by_role("status")).to_contain_text("Signed out of 1 other session.")
    expect(rows).to_have_count(1)
    expect(page.get_by_text("No other browser is signed in.")).to_be_visible()
    assert SignedInSession.objects.filter(user=user).count() == 1

    phone_page.goto(f"{origin}/account/")
    expect_path(phone_page, "/accounts/login/")
    expect(phone_page.get_by_role("heading", level=1, name="Sign In")).to_be_visible()
    step_done()

    # 8. Back on the phone with the passkey alone: no password, no code.
    phone_page.get_by_role("button", name="Sign in with a passkey").click()
    expect_account_centre(phone_page)
    after = virtual_credentials(cdp, authenticator_id)
    assert after[0]["signCount"] > credentials[0]["signCount"], "the passkey was not used"
    assert details(phone_page, "User name") == USERNAME
    assert SignedInSession.objects.filter(user=user).count() == 2

    # 9. Nothing left the server, and the CSP stopped nothing the pages use.
    assert recorder.requests, "no request was recorded"
    assert recorder.foreign_requests(origin) == []
    step_done()
