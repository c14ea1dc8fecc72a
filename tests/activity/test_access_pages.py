"""Sign-ins, failed sign-ins and account-page visits: recorded and shown with filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from safehold.activity import services
from safehold.activity.models import AccessRecord

pytestmark = pytest.mark.django_db

CLIENT = {"browser": "Firefox 133", "os": "Ubuntu", "ip": "203.0.113.7", "place": "NL"}


def test_sign_in_and_visits_are_recorded_with_the_browser(alice, client, sign_in) -> None:
    sign_in(client)
    record = AccessRecord.objects.get(user=alice, kind="sign-in")
    assert record.result == "succeeded"
    assert record.browser.startswith("Chrome")
    assert record.os == "Linux"
    assert record.ip_address == "8.8.8.8"
    client.get("/account/profile/?q=secret")
    visit = AccessRecord.objects.filter(user=alice, kind="page-visit").first()
    assert visit is not None
    assert visit.path == "/account/profile/"
    assert client.get("/account/no-such-page/").status_code == 404
    failed = AccessRecord.objects.filter(user=alice, kind="page-visit", result="failed")
    assert [r.path for r in failed] == ["/account/no-such-page/"]


def test_a_failed_sign_in_is_recorded_for_the_account_it_names(alice, client) -> None:
    client.defaults["HTTP_USER_AGENT"] = "curl/8.5.0"
    response = client.post("/accounts/login/", {"login": "alice", "password": "wrong-password-1"})
    assert response.status_code == 200
    response = client.post(
        "/accounts/login/", {"login": "alice@example.test", "password": "wrong-password-2"}
    )
    failures = AccessRecord.objects.filter(user=alice, kind="sign-in-failed")
    assert failures.count() == 2
    assert {r.result for r in failures} == {"failed"}
    client.post("/accounts/login/", {"login": "nobody", "password": "wrong-password-3"})
    assert AccessRecord.objects.filter(kind="sign-in-failed").count() == 2


def test_the_activity_page_filters_and_pages(alice, client, sign_in) -> None:
    sign_in(client)
    now = timezone.now()
    noon = (now - timedelta(days=10)).replace(hour=12, minute=0)
    for i in range(60):
        services.record_access(
            alice,
            kind="page-visit",
            path=f"/account/p{i}/",
            client=CLIENT,
            at=noon - timedelta(minutes=i),
        )
    services.record_access(
        alice, kind="sign-in-failed", result="failed", client=CLIENT, at=now - timedelta(days=3)
    )
    page = client.get("/account/activity/").content.decode()
    assert "Page 1 of 2" in page
    assert "203.0.113.7" in page
    failed = client.get("/account/activity/?kind=sign-in-failed").content.decode()
    assert failed.count('class="access-sign-in-failed"') == 1
    assert 'class="access-page-visit"' not in failed
    day = noon.date().isoformat()
    second = client.get(f"/account/activity/?kind=page-visit&since={day}&until={day}&page=2")
    text = second.content.decode()
    assert "Page 2 of 2" in text
    assert text.count('class="access-page-visit"') == 10
    assert "kind=page-visit&amp;since=" in text  # the pager keeps the filters
    bad = client.get("/account/activity/?since=2026-02-01&until=2026-01-01").content.decode()
    assert "The start date must be on or before the end date." in bad
    junk = client.get("/account/activity/?kind=nonsense&page=xyz")
    assert junk.status_code == 200


def test_other_people_never_see_my_records(alice, make_user, sign_in) -> None:
    services.record_access(alice, kind="sign-in", client=CLIENT, path="/account/alice-only/")
    make_user("bob")
    bob = sign_in(Client(), login="bob")
    assert "/account/alice-only/" not in bob.get("/account/activity/").content.decode()


def test_the_activity_page_needs_sign_in(client) -> None:
    response = client.get("/account/activity/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/account/activity/", "账户活动"),
        ("/account/devices/", "本设备"),
        ("/account/payments/", "您还没有付过款"),
        ("/account/payments/new/", "安全码"),
    ],
)
def test_the_pages_speak_chinese(alice, client, sign_in, path, text) -> None:
    sign_in(client)
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert text in page


def test_the_overview_shows_the_previous_sign_in_and_failures(alice, client, sign_in) -> None:
    sign_in(client)
    page = client.get("/account/").content.decode()
    assert "None before this one" in page
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"login": "alice", "password": "not-the-password"})
    sign_in(client)
    page = client.get("/account/").content.decode()
    assert "Previous sign-in" in page
    assert "Chrome" in page
    assert "United States" in page
    assert "<dt>Failed sign-ins in the last 30 days</dt><dd>1</dd>" in page


def test_nothing_more_is_recorded_once_the_key_is_shredded(alice, client, sign_in) -> None:
    from safehold.vault import keys

    sign_in(client)
    before = AccessRecord.objects.filter(user=alice).count()
    keys.shred_data_key(alice.data_key)
    assert client.get("/account/activity/").status_code == 200
    assert AccessRecord.objects.filter(user=alice).count() == before
    assert services.record_access(alice, kind="sign-in", client=CLIENT) is None
