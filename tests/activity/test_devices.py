"""Devices: known by a hashed cookie, announced by e-mail when new, renamed, forgotten,
signed out."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from safehold.accounts.models import SignedInSession
from safehold.activity import services
from safehold.activity.models import Device
from safehold.audit.models import Event
from safehold.core import registry
from tests.activity.conftest import PHONE_UA

pytestmark = pytest.mark.django_db

COOKIE = settings.SAFEHOLD_DEVICE_COOKIE_NAME


def _events(kind: str) -> int:
    return Event.objects.filter(event_type=kind).count()


def test_the_first_sign_in_makes_a_device_with_a_hashed_cookie(alice, client, sign_in) -> None:
    sign_in(client)
    cookie = client.cookies[COOKIE]
    assert cookie["httponly"]
    assert int(cookie["max-age"]) == settings.SAFEHOLD_DEVICE_COOKIE_DAYS * 86400
    device = Device.objects.get(user=alice)
    assert device.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert cookie.value.encode() not in device.token_hash.encode()
    assert device.browser.startswith("Chrome")
    assert device.ip_address == "8.8.8.8"
    assert device.place == "US"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT browser, os, ip_address FROM activity_device WHERE id = %s", [device.pk]
        )
        for raw in cursor.fetchone():
            assert bytes(raw)[:1] == b"\x01"
            assert b"Chrome" not in bytes(raw)
            assert b"8.8.8.8" not in bytes(raw)


def test_a_new_device_is_announced_by_mail_and_a_known_one_is_not(
    alice, client, sign_in, smtp_sink, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client)  # the account's first device: nothing to warn about
    assert smtp_sink.to("alice@example.test") == []
    client.post("/accounts/logout/")
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client)  # the same browser again: known by its cookie
    assert smtp_sink.to("alice@example.test") == []
    assert Device.objects.filter(user=alice).count() == 1

    phone = Client()
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(phone, user_agent=PHONE_UA, ip="10.1.2.3")
    (mail,) = smtp_sink.to("alice@example.test")
    assert "new device" in mail["Subject"]
    body = smtp_sink.body(mail)
    assert "Mobile Safari" in body
    assert "iOS" in body
    assert "Local network" in body
    assert "/account/devices/" in body
    assert Device.objects.filter(user=alice).count() == 2


def test_rename_forget_and_sign_out_a_device(alice, client, sign_in) -> None:
    sign_in(client)
    phone = sign_in(Client(), user_agent=PHONE_UA)
    mine = Device.objects.get(
        user=alice, os__isnull=False, pk=client.session[services.SESSION_DEVICE]
    )
    other = Device.objects.exclude(pk=mine.pk).get(user=alice)

    page = client.get("/account/devices/").content.decode()
    assert "(this device)" in page
    assert "1 signed-in session" in page

    response = client.post("/account/devices/rename/", {"device": other.pk, "name": "  My phone "})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.name == "My phone"
    assert "My phone" in client.get("/account/devices/").content.decode()
    assert _events("device:renamed") == 1
    too_long = client.post("/account/devices/rename/", {"device": other.pk, "name": "x" * 61})
    assert "at most 60 characters" in client.get(too_long["Location"]).content.decode()

    assert phone.get("/account/").status_code == 200
    response = client.post("/account/devices/sign-out/", {"device": other.pk})
    assert (
        "Signed the device out of 1 session." in client.get(response["Location"]).content.decode()
    )
    after = phone.get("/account/")
    assert after.status_code == 302  # the phone is signed out
    assert "/accounts/login/" in after["Location"]
    assert client.get("/account/").status_code == 200  # this browser is not
    assert _events("device:signed-out") == 1
    assert _events("account:sessions:signed-out") == 1
    assert SignedInSession.objects.filter(user=alice).count() == 1

    response = client.post("/account/devices/forget/", {"device": other.pk})
    assert not Device.objects.filter(pk=other.pk).exists()
    assert _events("device:forgotten") == 1
    gone = client.post("/account/devices/forget/", {"device": other.pk})
    assert "could not be found" in client.get(gone["Location"]).content.decode()


def test_someone_else_cannot_touch_my_devices(alice, make_user, client, sign_in) -> None:
    sign_in(client)
    device = Device.objects.get(user=alice)
    make_user("mallory")
    mallory = sign_in(Client(), login="mallory")
    for action in ("rename", "forget", "sign-out"):
        response = mallory.post(f"/account/devices/{action}/", {"device": device.pk, "name": "x"})
        assert "could not be found" in mallory.get(response["Location"]).content.decode()
    device.refresh_from_db()
    assert device.name == ""
    assert client.get("/account/").status_code == 200
    assert mallory.post("/account/devices/forget/", {"device": "abc"}).status_code == 302


def test_a_shared_browser_is_one_device_per_person(alice, make_user, client, sign_in) -> None:
    make_user("bob")
    sign_in(client)
    client.post("/accounts/logout/")
    sign_in(client, login="bob")
    assert Device.objects.count() == 2
    assert {d.token_hash for d in Device.objects.all()} == {
        hashlib.sha256(client.cookies[COOKIE].value.encode()).hexdigest()
    }


def test_device_ips_are_blanked_after_the_retention_limit(alice, client, sign_in) -> None:
    sign_in(client)
    device = Device.objects.get(user=alice)
    old = Device(
        user=alice,
        token_hash="0" * 64,
        browser="Firefox 1",
        os="Windows",
        ip_address="192.0.2.1",
        place="local",
        first_seen_at=timezone.now() - timedelta(days=200),
        last_seen_at=timezone.now() - timedelta(days=91),
        ip_seen_at=timezone.now() - timedelta(days=91),
    )
    old.save()
    cutoff = timezone.now() - timedelta(days=90)
    assert services.purge_device_ips(cutoff) == 1
    old.refresh_from_db()
    device.refresh_from_db()
    assert old.ip_address is None
    assert (old.browser, old.os, old.place) == ("Firefox 1", "Windows", "local")
    assert device.ip_address == "8.8.8.8"
    assert services.purge_device_ips(cutoff) == 0


def test_devices_are_exported_and_erased(alice, client, sign_in) -> None:
    sign_in(client)
    exporter = next(e for e in registry.exporters() if e.name == "devices")
    (row,) = exporter.rows(alice)
    assert row["ip_address"] == "8.8.8.8"
    assert row["browser"].startswith("Chrome")
    eraser = next(e for e in registry.erasers() if e.name == "devices")
    assert eraser.erase(alice) == 1
    assert list(exporter.rows(alice)) == []
