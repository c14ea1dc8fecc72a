"""In Chromium: a person reads the statement in Chinese, opens its history and a diff,
sends a suggestion; a staff member replies; the person sees the reply."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.header import decode_header, make_header
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import Permission

from safehold.audit.models import Event
from safehold.feedback.models import ContactMessage
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # the browser fixtures

pytest.importorskip("playwright")
from playwright.sync_api import expect  # after the import check

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

    from tests.e2e.conftest import Recorder

pytestmark = pytest.mark.browser

ADDED_EN = "We answer every message sent through Contact us within seven days."
ADDED_ZH = "我们会在七天内答复通过"  # the start of the added Chinese sentence
SUGGESTION = "请在隐私声明中说明登录记录的保存期限。Please say how long sign-in records are kept."
REPLY = "谢谢。We keep sign-in records for 180 days, and version 3 will say so."


def _publish_second_version() -> None:
    """Version 2: version 1 (Safehold's default, installed at migrate) plus one sentence."""
    from safehold.audit.services import Actor
    from safehold.policy import services

    if services.current_version() is None:
        services.install_default_statement()
    texts = services.default_texts()
    draft = services.create_draft(
        texts={
            "en": texts["en"] + "\n\n" + ADDED_EN + "\n",
            "zh-hans": texts["zh-hans"] + "\n\n" + ADDED_ZH + "“联系我们”发送的每一条留言。\n",
        },
        summaries={"en": "A promise about answers.", "zh-hans": "关于答复的承诺。"},
    )
    services.publish_version(draft, actor=Actor.system())


def _sign_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=login]")).locator(
        "button[type=submit]"
    ).click()
    page.wait_for_url(re.compile(r".*/account/$"))
    _answer_cookie_banner(page)


def _answer_cookie_banner(page: Page) -> None:
    """A person answers the cookie banner first (it covers the footer): "Reject all"."""
    banner = page.locator("#sh-consent")
    if banner.count() and banner.is_visible():
        banner.locator("button[name=choice][value=none]").click()
        expect(banner).to_be_hidden()


def test_statement_in_chinese_then_a_suggestion_answered(
    live_server,
    make_user,
    smtp_sink,
    settings,
    new_context: Callable[[], BrowserContext],  # noqa: F811  # the imported fixture
    recorder: Recorder,  # noqa: F811  # the imported fixture
) -> None:  # type: ignore[no-untyped-def]
    _publish_second_version()
    make_user("lin", name="林")
    clerk = make_user("clerk", is_staff=True)
    for codename in ("view_inbox", "reply"):
        clerk.user_permissions.add(
            Permission.objects.get(content_type__app_label="feedback", codename=codename)
        )
    base = live_server.url

    # The person signs in and switches the site to Chinese.
    page = new_context().new_page()
    _sign_in(page, base, "lin")
    page.goto(f"{base}/privacy/")
    page.locator("#language-select").select_option("zh-hans")
    page.locator("form.lang button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("main")).to_contain_text("我们保存的个人信息")
    expect(page.locator("main")).to_contain_text(ADDED_ZH)

    # The history, and the diff of version 1 and version 2.
    page.locator('a[href="/privacy/history/"]').first.click()
    expect(page).to_have_url(re.compile(r".*/privacy/history/$"))
    expect(page.locator('a[href="/privacy/v1/"]').first).to_be_visible()
    page.locator('a[href="/privacy/diff/1...2/"]').first.click()
    expect(page).to_have_url(re.compile(r".*/privacy/diff/1\.\.\.2/$"))
    expect(page.locator("table.diff ins").filter(has_text="七天").first).to_be_visible()

    # "Contact us" from the footer, in Chinese. A send quicker than the minimum time is
    # refused with the text kept (the minimum is set high, then off: no race with the clock).
    settings.SAFEHOLD_CONTACT_MIN_SECONDS = 3600
    page.locator("footer a[href='/contact/']").click()
    expect(page.locator("h1")).to_have_text("联系我们")
    page.locator("select[name=category]").select_option("suggestion")
    page.locator("textarea[name=body]").fill(SUGGESTION)
    page.locator("form.contact-form button[type=submit]").click()
    expect(page.locator("[data-contact-refused]")).to_contain_text("机器人")
    expect(page.locator("textarea[name=body]")).to_have_value(SUGGESTION)
    assert ContactMessage.objects.count() == 0
    settings.SAFEHOLD_CONTACT_MIN_SECONDS = 0
    page.locator("form.contact-form button[type=submit]").click()
    reference_el = page.locator("[data-contact-reference]")
    expect(reference_el).to_have_text(re.compile(r"^SH-[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    reference = reference_el.inner_text()
    [ack] = smtp_sink.to("lin@example.test")
    subject = str(make_header(decode_header(ack["Subject"])))
    assert reference in subject
    assert "我们已收到您的留言" in subject  # in the language the person wrote in

    # A staff member, on another device, reads it (audited) and replies.
    staff = new_context().new_page()
    _sign_in(staff, base, "clerk")
    staff.goto(f"{base}/staff/inbox/")
    row = staff.locator(f'[data-contact-row="{reference}"]')
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("登录记录")  # no personal content in the list
    row.locator("a").click()
    expect(staff.locator("[data-contact-body]")).to_contain_text(SUGGESTION)
    assert Event.objects.filter(event_type="contact:message:read").count() == 1
    staff.locator("textarea[name=body]").first.fill(REPLY)
    staff.locator(f'form[action="/staff/inbox/{reference}/reply/"] button[type=submit]').click()
    expect(staff.locator(".messages")).to_contain_text("Your reply has been sent.")
    expect(staff.locator("[data-contact-reply]")).to_contain_text("180 days")

    # The person sees the reply in their account (and got it by e-mail).
    page.goto(f"{base}/account/")
    page.locator('nav.account-nav a[href="/account/messages/"]').click()
    thread = page.locator(f'[data-contact-message="{reference}"]')
    expect(thread).to_contain_text(SUGGESTION)
    expect(thread.locator("[data-contact-reply]")).to_contain_text(REPLY)
    expect(thread).to_contain_text("已答复")
    [_, reply_mail] = smtp_sink.to("lin@example.test")
    assert REPLY in smtp_sink.body(reply_mail)

    assert recorder.foreign_requests(base) == []
    assert recorder.csp_violations() == []
    assert recorder.page_errors == []
    assert recorder.server_errors == []
