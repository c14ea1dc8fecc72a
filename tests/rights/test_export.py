"""'Download my data': one sealed archive with everything, readable and machine-readable."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.utils import timezone

from safehold.accounts.models import User
from safehold.audit.events import EventType
from safehold.audit.services import Actor, events_about
from safehold.core import registry
from safehold.jobs.worker import run_pending
from safehold.rights import schema, services
from safehold.rights.models import Export
from tests.rights.conftest import SECRETS, read_archive, reauthenticate, signed_in_client

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "export-schema.json"

pytestmark = pytest.mark.django_db


def _give_records_of_other_apps(user: User) -> None:
    """One record of every other kind, made through each app's own services."""
    from decimal import Decimal

    from safehold.activity import services as activity
    from safehold.activity.models import AccessRecord
    from safehold.activity.payments import Card
    from safehold.consent import services as consent
    from safehold.feedback import services as feedback
    from safehold.policy import services as policy
    from safehold.sharing import services as sharing
    from safehold.sharing.models import Basis, Recipient, SharingPurpose

    system = Actor.system()
    activity.record_access(
        user,
        kind=AccessRecord.Kind.PAGE_VISIT,
        path="/account/",
        client={"browser": "Firefox 128", "os": "Linux", "ip": SECRETS["ip"], "place": "GB"},
    )
    activity.make_payment(
        user,
        card=Card("4242424242424242", 12, 2039, "123"),
        amount=Decimal("12.50"),
        currency="EUR",
        form_key=activity.new_form_key(),
        actor=user,
    )
    consent.record_choice(
        visitor_id="v" * 20,
        choices=consent.full_choices(consent.get_config(), ["analytics"]),
        method="settings",
        actor=system,
        user=user,
        ip=SECRETS["ip"],
    )
    feedback.send_message(
        sender=user,
        email=SECRETS["email"],
        name=SECRETS["name"],
        category="privacy-question",
        body="What do you keep about me?",
        language="en",
        actor=system,
    )
    version = policy.current_version() or policy.install_default_statement()
    assert version is not None
    policy.acknowledge(user, version, actor=system)
    courier = Recipient.objects.create(
        slug="fastpost",
        name="FastPost Couriers",
        country="CN",
        basis=Basis.CONSENT,
        categories=["name", "mailing_address"],
    )
    delivery = SharingPurpose.objects.create(
        recipient=courier, code="delivery", description="to deliver the goods you order"
    )
    sharing.set_consent(user, delivery, grant=True, actor=system)
    released = sharing.request_share(
        recipient=courier,
        person=user,
        categories=["name"],
        purpose=delivery,
        basis="consent",
        justification="",
        actor=system,
    )
    assert type(released).__name__ == "Release", released


def _export_for(user: User) -> Export:
    export, created = services.request_export(user, actor=Actor.system(), site_url="http://t")
    assert created
    assert run_pending() >= 1
    export.refresh_from_db()
    assert export.status == Export.Status.READY
    return export


def test_the_documented_schema_is_the_registered_exporters_schema() -> None:
    documented = json.loads(SCHEMA_FILE.read_text())
    assert documented == schema.build(), (
        "docs/export-schema.json is out of date: "
        "run `safehold exportschema > docs/export-schema.json`"
    )


def test_the_export_has_every_kind_of_record_and_matches_the_schema(person: User) -> None:
    _give_records_of_other_apps(person)
    archive = read_archive(_export_for(person))
    data = archive.data
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    sections = data["sections"]
    # Every registered exporter is a section of the archive and of the page.
    names = [part.name for part in registry.exporters()]
    assert list(sections) == names
    for name in names:
        assert f'id="{name}"' in archive.html
    # The account's own parts, with what the person gave.
    (profile,) = sections["profile"]["rows"]
    assert (profile["name"], profile["phone"], profile["mailing_address"]) == (
        SECRETS["name"],
        SECRETS["phone"],
        SECRETS["address"],
    )
    assert profile["email"] == SECRETS["email"]
    assert {row["email"] for row in sections["email_addresses"]["rows"]} == {
        SECRETS["email"],
        "zq.other@example.test",
    }
    (session,) = sections["signed_in_sessions"]["rows"]
    assert session["ip_address"] == SECRETS["ip"]
    assert session["browser"].startswith("Firefox")
    assert {row["type"] for row in sections["two_factor"]["rows"]} == {"totp", "recovery_codes"}
    events = {row["event"] for row in sections["audit_events"]["rows"]}
    assert {EventType.SIGN_IN_SUCCEEDED, EventType.PROFILE_UPDATED} <= events
    assert EventType.EXPORT_REQUESTED in events
    # Other apps' parts, where their records were made above.
    assert "/account/" in {row["page"] for row in sections["access_records"]["rows"]}
    # Every part has something for this person: nothing they have is left out.
    empty = [name for name, section in sections.items() if not section["rows"]]
    assert empty == []
    blob = json.dumps(sections)
    assert "4242" in blob
    assert "4242424242424242" not in blob  # a card number never reached the database
    assert "What do you keep about me?" in blob
    assert "fastpost" in blob.lower()
    assert "Firefox" in json.dumps(sections["devices"]["rows"])
    for name, section in sections.items():
        assert section["count"] == len(section["rows"]), name
    # The same in the readable page.
    for value in (SECRETS["name"], SECRETS["address"], SECRETS["ip"], "zq.other@example.test"):
        assert value in archive.html
    assert json.loads(archive.files["schema.json"]) == schema.build()


def test_no_secret_is_exported(person: User) -> None:
    from allauth.mfa.models import Authenticator

    blob = b"".join(read_archive(_export_for(person)).files.values())
    totp = Authenticator.objects.get(user=person, type="totp")
    assert json.dumps(totp.data).encode()[:40] not in blob
    assert b"JBSWY3DPEHPK3PXP" not in blob
    assert person.password.encode() not in blob
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes(Authenticator.objects.get(user=person, type="recovery_codes"))
    assert all(code.encode() not in blob for code in codes.get_unused_codes())


def test_the_page_is_self_contained_and_escapes_what_people_typed(person: User) -> None:
    person.name = '<script>alert("x")</script><img src="https://tracker.example/p.gif">'
    person.save()
    page = read_archive(_export_for(person)).html
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    # No element loads or links anything outside the page (the typed text stays text).
    for attribute in re.findall(r"""<[a-z]+[^<>]*?\s(?:src|href)\s*=\s*["']?([^"'\s>]*)""", page):
        assert attribute.startswith("#"), attribute
    assert "<link" not in page


def test_the_archive_is_sealed_at_rest(person: User) -> None:
    export = _export_for(person)
    path = Path(settings.SAFEHOLD_EXPORT_DIR) / export.archive_name
    raw = path.read_bytes()
    assert raw.startswith(b"SHX1")
    for value in (SECRETS["name"], SECRETS["email"], SECRETS["ip"], "data.json"):
        assert value.encode() not in raw
    assert path.stat().st_mode & 0o777 == 0o600
    assert not list(path.parent.glob("*.part"))
    assert not list(path.parent.glob(".spool-*"))


def test_the_person_is_told_by_mail_when_it_is_ready(
    person: User, smtp_sink, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        _export_for(person)
    (message,) = [m for m in smtp_sink.to(SECRETS["email"]) if "archive" in m["Subject"]]
    body = smtp_sink.body(message)
    assert "http://t/account/data/" in body
    assert SECRETS["name"] not in body


def test_asking_twice_while_it_is_prepared_gives_the_same_export(person: User) -> None:
    first, created = services.request_export(person, actor=Actor.system())
    second, created_again = services.request_export(person, actor=Actor.system())
    assert created
    assert not created_again
    assert first.pk == second.pk
    assert [str(e.event_type) for e in events_about(person.pk)].count(
        EventType.EXPORT_REQUESTED
    ) == 1


def test_download_needs_a_fresh_sign_in_and_is_recorded(person: User) -> None:
    client = signed_in_client("zq")
    response = client.post("/account/data/")
    assert response.status_code == 302
    run_pending()
    export = Export.objects.get(user=person)
    page = client.get("/account/data/")
    url = f"/account/data/{export.public_id}/download/"
    assert url in page.content.decode()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not any(e.event_type == EventType.EXPORT_DOWNLOADED for e in events_about(person.pk))
    assert reauthenticate(client).status_code == 302
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"PK")
    kinds = [e.event_type for e in events_about(person.pk)]
    for kind in (EventType.EXPORT_REQUESTED, EventType.EXPORT_READY, EventType.EXPORT_DOWNLOADED):
        assert kind in kinds
    export.refresh_from_db()
    assert export.downloaded_at is not None


def test_nobody_else_can_download_it(person: User, make_user) -> None:  # type: ignore[no-untyped-def]
    export = _export_for(person)
    make_user("mallory")
    client = signed_in_client("mallory")
    reauthenticate(client)
    assert client.get(f"/account/data/{export.public_id}/download/").status_code == 404


def test_an_expired_link_is_refused_and_its_archive_removed(person: User) -> None:
    export = _export_for(person)
    path = Path(settings.SAFEHOLD_EXPORT_DIR) / export.archive_name
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = signed_in_client("zq")
    reauthenticate(client)
    response = client.get(f"/account/data/{export.public_id}/download/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert services.expire_exports() == 1
    assert not path.exists()
    export.refresh_from_db()
    assert export.status == Export.Status.EXPIRED
    assert export.wrapped_key is None


def test_the_link_lasts_the_configured_days(person: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_EXPORT_LINK_DAYS = 3
    export = _export_for(person)
    assert export.ready_at is not None
    assert export.expires_at is not None
    assert export.expires_at - export.ready_at == timedelta(days=3)


def test_a_tampered_archive_fails_to_open(person: User) -> None:
    from safehold.rights.sealing import SealedFileError

    export = _export_for(person)
    path = Path(settings.SAFEHOLD_EXPORT_DIR) / export.archive_name
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(SealedFileError):
        read_archive(export)
