"""Safehold's own pages without JavaScript: the banner, the settings page, the cookies
that are and are not set, GPC, re-consent, and the proof kept for each choice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from safehold.audit.models import Event
from safehold.consent import services
from safehold.consent.models import Category, ConsentRecord
from safehold.consent.services import CHOICE_COOKIE, VISITOR_COOKIE, StoredChoice
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db
LANG = settings.LANGUAGE_COOKIE_NAME
NECESSARY_COOKIES = {"sessionid", "csrftoken", "messages", VISITOR_COOKIE, CHOICE_COOKIE}


def choose(client: Client, choice: str, *, allow: tuple[str, ...] = (), **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/cookies/choose/", {"choice": choice, "allow": list(allow), "next": "/"}, **extra
    )


def stored(client: Client) -> StoredChoice:
    value = StoredChoice.from_cookie(client.cookies[CHOICE_COOKIE].value)
    assert value is not None
    return value


def test_first_visit_shows_banner_and_sets_no_optional_cookie(client: Client) -> None:
    response = client.get("/")
    html = response.content.decode()
    assert 'id="sh-consent"' in html
    # Accept all, Reject all and Choose are the same kind of control.
    assert html.count('class="sh-btn"') == 3
    assert 'value="all"' in html
    assert 'value="none"' in html
    assert '<a href="/cookies/">Cookie settings</a>' in html  # in the footer
    assert set(response.cookies) <= NECESSARY_COOKIES
    assert not response.wsgi_request.consent.allows("analytics")  # type: ignore[attr-defined]
    assert response.wsgi_request.consent.allows("necessary")  # type: ignore[attr-defined]
    assert ConsentRecord.objects.count() == 0


def test_reject_all_records_proof_and_hides_banner(client: Client) -> None:
    response = choose(client, "none", REMOTE_ADDR="203.0.113.77")
    assert response.status_code == 302
    assert response["Location"] == "/"
    record = ConsentRecord.objects.get()
    assert record.choices == {
        "necessary": True,
        "preferences": False,
        "analytics": False,
        "marketing": False,
    }
    assert record.method == "banner"
    assert record.ip_network == "203.0.113.0/24"
    assert record.visitor_id == client.cookies[VISITOR_COOKIE].value
    assert record.user is None
    assert record.categories_version == services.get_config().categories_version
    assert record.banner_version == services.get_config().banner_version
    assert stored(client).allowed == {"necessary"}
    assert client.cookies[VISITOR_COOKIE]["httponly"]
    page = client.get("/")
    assert 'id="sh-consent"' not in page.content.decode()
    assert not page.wsgi_request.consent.allows("analytics")  # type: ignore[attr-defined]
    event = Event.objects.get(event_type="consent:recorded")
    assert b"203.0.113" not in bytes(event.data)  # the IP is sealed in the audit log


def test_accept_all_and_custom_choice_on_settings_page(client: Client) -> None:
    choose(client, "all")
    assert stored(client).allowed == {"necessary", "preferences", "analytics", "marketing"}
    page = client.get("/cookies/")
    assert page.status_code == 200
    assert b"Your current choice was saved on" in page.content
    response = client.post("/cookies/", {"choice": "custom", "allow": ["analytics"], "next": "/"})
    assert response.status_code == 302
    latest = ConsentRecord.objects.order_by("-id").first()
    assert latest is not None
    assert latest.method == "settings"
    assert latest.allowed == ["analytics", "necessary"]
    assert ConsentRecord.objects.filter(visitor_id=latest.visitor_id).count() == 2


def test_bad_form_input_is_refused_without_a_record(client: Client) -> None:
    response = client.post("/cookies/", {"choice": "custom", "allow": ["no-such-category"]})
    assert response.status_code == 400
    assert b"could not be read" in response.content
    response = choose(client, "maybe")
    assert response.status_code == 302
    assert response["Location"] == "/cookies/"
    assert ConsentRecord.objects.count() == 0


def test_withdrawing_deletes_the_category_cookies(client: Client) -> None:
    Category.objects.filter(slug="analytics").update(cookies="_sh_example_analytics")
    services.clear_config()
    choose(client, "all")
    client.cookies["_sh_example_analytics"] = "1"  # set by the analytics script
    response = client.post("/cookies/", {"choice": "custom", "allow": ["preferences"]})
    assert response.cookies["_sh_example_analytics"]["max-age"] == 0
    # And on any later page, if the browser still sends it.
    client.cookies["_sh_example_analytics"] = "1"
    page = client.get("/")
    assert page.cookies["_sh_example_analytics"]["max-age"] == 0


def test_language_is_not_remembered_without_preferences(client: Client) -> None:
    choose(client, "none")
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert LANG not in response.cookies  # dropped: preferences are refused
    page = client.get("/")
    assert page.wsgi_request.LANGUAGE_CODE == "zh-hans"  # kept for the visit (session)
    html = page.content.decode()
    assert 'id="sh-language-note"' in html
    assert 'action="/cookies/enable/"' in html
    # The offer: allowing preferences turns the visit's language into a cookie.
    response = client.post("/cookies/enable/", {"category": "preferences", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[LANG].value == "zh-hans"
    assert stored(client).allowed == {"necessary", "preferences"}
    assert ConsentRecord.objects.order_by("-id")[0].method == "settings"
    page = client.get("/")
    assert 'id="sh-language-note"' not in page.content.decode()


def test_language_cookie_before_any_choice_is_dropped(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert LANG not in response.cookies
    # A language cookie left from before is deleted once preferences are refused.
    client.cookies[LANG] = "zh-hans"
    choose(client, "none")
    page = client.get("/")
    assert page.cookies[LANG]["max-age"] == 0


def test_language_cookie_is_set_when_preferences_are_allowed(client: Client) -> None:
    choose(client, "custom", allow=("preferences",))
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.cookies[LANG].value == "zh-hans"


def test_template_tag_and_request_attribute(client: Client, rf) -> None:  # type: ignore[no-untyped-def]
    from django.template import engines

    template = engines["django"].from_string(
        '{% load consent %}{% consent_allows "preferences" as ok %}{{ ok|yesno:"on,off" }}'
    )
    choose(client, "custom", allow=("preferences",))
    request = rf.get("/")
    request.COOKIES[CHOICE_COOKIE] = client.cookies[CHOICE_COOKIE].value
    assert template.render({"request": request}) == "on"
    assert template.render({"request": rf.get("/")}) == "off"


def test_gpc_header_keeps_marketing_off(client: Client) -> None:
    page = client.get("/", HTTP_SEC_GPC="1")
    assert b'class="sh-gpc"' in page.content
    choose(client, "all", HTTP_SEC_GPC="1")
    record = ConsentRecord.objects.get()
    assert record.gpc is True
    assert record.choices["marketing"] is False
    assert record.choices["analytics"] is True
    page = client.get("/", HTTP_SEC_GPC="1")
    assert not page.wsgi_request.consent.allows("marketing")  # type: ignore[attr-defined]
    # An explicit later choice is the visitor's own, and recorded as such.
    client.post("/cookies/", {"choice": "custom", "allow": ["marketing"]}, HTTP_SEC_GPC="1")
    latest = ConsentRecord.objects.order_by("-id")[0]
    assert latest.method == "settings"
    assert latest.gpc
    assert latest.choices["marketing"]
    page = client.get("/", HTTP_SEC_GPC="1")
    assert page.wsgi_request.consent.allows("marketing")  # type: ignore[attr-defined]


def test_gpc_after_accepting_withdraws_marketing_and_records_it(client: Client) -> None:
    choose(client, "all")
    assert stored(client).allowed >= {"marketing"}
    page = client.get("/", HTTP_SEC_GPC="1")
    assert page.status_code == 200
    latest = ConsentRecord.objects.order_by("-id")[0]
    assert latest.method == "gpc"
    assert latest.gpc
    assert latest.choices == {
        "necessary": True,
        "preferences": True,
        "analytics": True,
        "marketing": False,
    }
    assert "marketing" not in stored(client).allowed
    client.get("/", HTTP_SEC_GPC="1")
    assert ConsentRecord.objects.filter(method="gpc").count() == 1  # once


def test_gpc_well_known_file(client: Client) -> None:
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.json()["gpc"] is True
    assert "lastUpdate" in response.json()


def test_changed_categories_ask_again(client: Client) -> None:
    choose(client, "all")
    assert b'id="sh-consent"' not in client.get("/").content
    Category.objects.create(
        slug="social",
        name_en="Social media",
        name_zh="社交媒体",
        description_en="Share buttons.",
        description_zh="分享按钮。",
    )
    page = client.get("/")
    html = page.content.decode()
    assert 'id="sh-consent"' in html
    assert 'class="sh-renewal"' in html
    # Until the visitor chooses again, only the necessary category counts.
    assert not page.wsgi_request.consent.allows("analytics")  # type: ignore[attr-defined]


def test_changed_cookie_section_asks_again(client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    choose(client, "all")
    current = services.get_config()
    assert b'id="sh-consent"' not in client.get("/").content
    monkeypatch.setattr(
        services,
        "statement_versions",
        lambda: (7, current.cookie_section_version + 1),
    )
    services.clear_config()
    assert b'class="sh-renewal"' in client.get("/").content
    choose(client, "none")
    record = ConsentRecord.objects.order_by("-id")[0]
    assert record.statement_version == 7
    assert record.cookie_section_version == current.cookie_section_version + 1
    assert b'id="sh-consent"' not in client.get("/").content


def test_a_year_old_choice_is_asked_again(client: Client) -> None:
    config = services.get_config()
    old = timezone.now() - timedelta(days=settings.SAFEHOLD_CONSENT_RENEW_DAYS + 1)
    fresh = timezone.now() - timedelta(days=settings.SAFEHOLD_CONSENT_RENEW_DAYS - 1)
    for made, asked in ((old, True), (fresh, False)):
        client.cookies[CHOICE_COOKIE] = StoredChoice(
            allowed=frozenset({"necessary", "analytics"}),
            made_at=int(made.timestamp()),
            categories_version=config.categories_version,
            cookie_section_version=config.cookie_section_version,
            gpc=False,
        ).to_cookie()
        page = client.get("/")
        assert (b'id="sh-consent"' in page.content) is asked
        assert page.wsgi_request.consent.allows("analytics") is not asked  # type: ignore[attr-defined]


def test_tampered_cookie_counts_as_no_choice(client: Client) -> None:
    client.cookies[CHOICE_COOKIE] = "1|analytics|notanumber|x|y|0"
    page = client.get("/")
    assert b'id="sh-consent"' in page.content
    assert not page.wsgi_request.consent.allows("analytics")  # type: ignore[attr-defined]


def test_choices_join_the_account_at_sign_in(client: Client, alice) -> None:  # type: ignore[no-untyped-def]
    choose(client, "custom", allow=("analytics",))
    assert (
        client.post("/accounts/login/", {"login": "alice", "password": TEST_PASSWORD}).status_code
        == 302
    )
    record = ConsentRecord.objects.get()
    assert record.user == alice
    assert "consent:joined" in {e.event_type for e in Event.objects.all()}
    centre = client.get("/account/")
    assert b"Cookie choices" in centre.content
    assert b"allowed analytics, necessary" in centre.content
    history = client.get("/account/cookies/")
    assert history.status_code == 200
    assert b"Analytics" in history.content
    assert b"Banner" in history.content.title()
    # A choice made while signed in is joined at once.
    client.post("/cookies/", {"choice": "none"})
    assert ConsentRecord.objects.filter(user=alice).count() == 2


def test_export_and_erasure(alice) -> None:  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor
    from safehold.core import registry

    config = services.get_config()
    services.record_choice(
        visitor_id="v" * 20,
        choices=services.full_choices(config, ["analytics"]),
        method="settings",
        actor=Actor.system(),
        user=alice,
        ip="2001:db8:1234:5678::1",
    )
    exporter = next(e for e in registry.exporters() if e.name == "consent")
    rows = list(exporter.rows(alice))
    assert len(rows) == 1
    assert rows[0]["ip_network"] == "2001:db8:1234::/48"
    assert rows[0]["choices"]["analytics"] is True
    json.dumps(rows)
    eraser = next(e for e in registry.erasers() if e.name == "consent")
    assert eraser.erase(alice) == 1
    record = ConsentRecord.objects.get()
    assert record.user is None
    assert record.ip_network == ""
    assert record.visitor_id not in ("", "v" * 20)  # proof stays, the browser cannot rejoin it


def test_staff_export_csv_and_json(admin_client: Client) -> None:
    client = Client()
    choose(client, "all", REMOTE_ADDR="198.51.100.9")
    choose(client, "none", REMOTE_ADDR="198.51.100.9")
    ids = [str(pk) for pk in ConsentRecord.objects.values_list("pk", flat=True)]
    url = "/admin/consent/consentrecord/"
    response = admin_client.post(url, {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("id,visitor_id,account,site,recorded_at,method")
    assert len(lines) == 3
    assert "198.51.100.0/24" in lines[1]
    response = admin_client.post(url, {"action": "export_json", "_selected_action": ids})
    rows = json.loads(response.content)
    assert {row["method"] for row in rows} == {"banner"}
    assert Event.objects.filter(event_type="consent:records:exported").count() == 2


def test_admin_category_change_is_audited_and_applies(admin_client: Client) -> None:
    category = Category.objects.get(slug="analytics")
    response = admin_client.post(
        f"/admin/consent/category/{category.pk}/change/",
        {
            "order": 30,
            "name_en": "Statistics",
            "name_zh": "统计",
            "description_en": "Counting visits.",
            "description_zh": "统计访问。",
            "cookies": "_sh_example_analytics",
            "scripts": "/static/consent/example-analytics.js",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Event.objects.filter(event_type="consent:category:changed").exists()
    page = Client().get("/cookies/")
    assert b"Statistics" in page.content
    assert b"_sh_example_analytics" in page.content
    home = Client().get("/")
    assert (
        b'data-category="analytics" data-src="/static/consent/example-analytics.js"' in home.content
    )


def test_truncate_ip() -> None:
    assert services.truncate_ip("192.0.2.200") == "192.0.2.0/24"
    assert services.truncate_ip("::ffff:192.0.2.200") == "192.0.2.0/24"
    assert services.truncate_ip("2001:db8:aaaa:bbbb::1") == "2001:db8:aaaa::/48"
    assert services.truncate_ip("not an ip") == ""
    assert services.truncate_ip(None) == ""


def test_promise_checks_hold() -> None:
    from safehold.core import promises

    for promise_id in ("cookie-choice", "cookie-reject-as-easy"):
        check = next(p for p in promises.all_promises() if p.id == promise_id)
        result = check.run()
        assert result.status == promises.Status.HOLDS, result.detail
    Category.objects.exclude(is_necessary=True).delete()
    check = next(p for p in promises.all_promises() if p.id == "cookie-choice")
    assert check.run().status == promises.Status.BROKEN


def test_banner_and_categories_in_chinese(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "全部接受" in html
    assert "全部拒绝" in html
    settings_page = client.get("/cookies/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "偏好设置" in settings_page
    assert "严格必要" in settings_page
