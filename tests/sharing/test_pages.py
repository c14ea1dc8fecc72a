"""The person's sharing page, the staff's legal request pages, the transparency report."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from safehold.audit.models import Event
from safehold.audit.services import Actor
from safehold.sharing import services
from safehold.sharing.models import Disclosure, LegalRequest, ShareConsent
from tests.sharing.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_a_person_grants_and_withdraws_consent_in_plain_words(person, delivery) -> None:
    client = signed_in(Client(), "nadia")
    page = client.get("/account/sharing/").content.decode()
    assert "FastPost Couriers" in page
    assert "to deliver the goods you order" in page
    assert "Not shared: you have not agreed" in page
    response = client.post(
        "/account/sharing/consent/", {"purpose": delivery.pk, "action": "grant"}, follow=True
    )
    assert "You agreed that FastPost Couriers may receive your data" in response.content.decode()
    assert services.consent_state(person, delivery) == "granted"
    client.post("/account/sharing/consent/", {"purpose": delivery.pk, "action": "withdraw"})
    assert services.consent_state(person, delivery) == "withdrawn"
    page = client.get("/account/sharing/").content.decode()
    assert "You withdrew your consent" in page
    assert page.count("to deliver the goods you order") >= 3  # the choice and two history rows
    assert ShareConsent.objects.count() == 2


def test_bad_consent_posts_change_nothing(person, delivery, fraud_desk) -> None:
    client = signed_in(Client(), "nadia")
    for data in (
        {"purpose": "x", "action": "grant"},
        {"purpose": delivery.pk, "action": "maybe"},
        {"purpose": 99999, "action": "grant"},
        # a recipient resting on an exception asks no consent
        {"purpose": fraud_desk.purposes.get().pk, "action": "grant"},
    ):
        response = client.post("/account/sharing/consent/", data)
        assert response.status_code == 302
    assert ShareConsent.objects.count() == 0
    assert Client().get("/account/sharing/").status_code == 302  # sign in first


def test_the_person_sees_each_disclosure_but_not_a_gagged_one(
    person, delivery, clerk, counsel
) -> None:
    services.set_consent(person, delivery, grant=True, actor=Actor.system())
    services.request_share(
        recipient="fastpost",
        person=person,
        categories=["name", "mailing_address"],
        purpose="delivery",
        basis="consent",
        justification="",
        actor=Actor.system(),
    )
    request = services.record_legal_request(
        person=person,
        authority_name="HMRC",
        authority_type="tax",
        instrument="information notice",
        reference="IN-1",
        categories=["phone"],
        period_start=None,
        period_end=None,
        document=services.Document("n.pdf", b"notice"),
        gag_review_date=timezone.localdate() + timedelta(days=60),
        staff=clerk,
        actor=Actor.system(),
    )
    services.decide_legal_request(request, approve=True, staff=counsel, actor=Actor.system())
    services.release_legal_request(request, staff=counsel, actor=Actor.system())
    client = signed_in(Client(), "nadia")
    page = client.get("/account/sharing/").content.decode()
    assert page.count("data-disclosure=") == 1
    assert "FastPost Couriers" in page
    assert "name, mailing address" in page
    assert "With your consent" in page
    assert "HMRC" not in page
    overview = client.get("/account/").content.decode()
    assert "Times your data was shared" in overview
    # The order lapses: now it is listed, with its basis.
    Disclosure.objects.filter(legal_request=request).update(hidden_until=timezone.localdate())
    page = client.get("/account/sharing/").content.decode()
    assert page.count("data-disclosure=") == 2
    assert "HMRC" in page
    assert "to comply with the law or a legal procedure" in page


def test_two_staff_members_record_approve_and_release_on_the_pages(person, clerk, counsel) -> None:
    first = signed_in(Client(), "clerk")
    response = first.post(
        "/staff/sharing/legal/new/",
        {
            "person": "nadia@example.test",
            "authority_name": "Leeds Crown Court",
            "authority_type": "court",
            "instrument": "production order",
            "reference": "2026/117",
            "categories": ["name", "phone"],
            "document": SimpleUploadedFile("order.pdf", b"%PDF order", "application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = LegalRequest.objects.get()
    detail = f"/staff/sharing/legal/{request.pk}/"
    assert response["Location"] == detail
    assert 'value="approve"' not in first.get(detail).content.decode()
    # The requester's approval (posted anyway) is refused, with a message, and recorded.
    response = first.post(f"{detail}decide/", {"decision": "approve"}, follow=True)
    assert "you cannot approve it" in response.content.decode()
    request.refresh_from_db()
    assert request.status == LegalRequest.Status.PENDING
    assert Event.objects.filter(event_type="share:legal:approval-refused").count() == 1
    response = first.post(f"{detail}release/", follow=True)
    assert "needs the approval of a second staff member" in response.content.decode()
    assert Event.objects.filter(event_type="share:refused").count() == 1
    # The second approves and releases.
    second = signed_in(Client(), "counsel")
    assert 'value="approve"' in second.get(detail).content.decode()
    second.post(f"{detail}decide/", {"decision": "approve"})
    request.refresh_from_db()
    assert request.status == LegalRequest.Status.APPROVED
    response = second.post(f"{detail}release/")
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert json.loads(archive.read("data.json")) == {
            "name": "Nadia Kaur",
            "phone": "+447911123456",
        }
    assert second.get(f"{detail}document/").content == b"%PDF order"
    assert "Released" in second.get(detail).content.decode()
    assert "Leeds Crown Court" in second.get("/staff/sharing/legal/").content.decode()


def test_the_legal_form_says_what_is_wrong(person, clerk, settings) -> None:
    client = signed_in(Client(), "clerk")
    response = client.post(
        "/staff/sharing/legal/new/",
        {
            "person": "nobody",
            "authority_name": "Court",
            "authority_type": "court",
            "instrument": "order",
            "reference": "1",
            "categories": ["name"],
            "document": SimpleUploadedFile("o.pdf", b"x"),
        },
    )
    assert response.status_code == 200
    assert "No active account has this user name" in response.content.decode()
    settings.SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES = 1024 * 1024
    response = client.post(
        "/staff/sharing/legal/new/",
        {
            "person": "nadia",
            "authority_name": "Court",
            "authority_type": "court",
            "instrument": "order",
            "reference": "1",
            "categories": ["name"],
            "document": SimpleUploadedFile("o.pdf", b"x" * (1024 * 1024 + 1)),
        },
    )
    assert "The document is larger than 1 MiB." in response.content.decode()
    assert LegalRequest.objects.count() == 0


def test_staff_without_the_legal_role_are_kept_out(person, make_user) -> None:
    make_user("helpdesk", is_staff=True)
    client = signed_in(Client(), "helpdesk")
    assert client.get("/staff/sharing/legal/").status_code == 403
    assert client.get("/staff/sharing/legal/new/").status_code == 403
    assert signed_in(Client(), "nadia").get("/staff/sharing/legal/").status_code == 403


def test_the_transparency_report_is_public_and_counts_only(person, clerk, counsel) -> None:
    assert "No authority has asked" in Client().get("/transparency").content.decode()
    request = services.record_legal_request(
        person=person,
        authority_name="West Yorkshire Police",
        authority_type="police",
        instrument="data request",
        reference="WYP-9",
        categories=["email"],
        period_start=None,
        period_end=None,
        document=services.Document("r.pdf", b"request"),
        gag_review_date=None,
        staff=clerk,
        actor=Actor.system(),
    )
    services.decide_legal_request(request, approve=False, staff=counsel, actor=Actor.system())
    page = Client().get("/transparency").content.decode()
    assert 'data-authority="police"' in page
    assert "Police or law enforcement" in page
    assert "Yorkshire" not in page
    assert "nadia" not in page.lower()
    assert "Transparency report" in Client().get("/").content.decode()  # in the footer


def test_recipients_are_managed_in_the_admin(make_user) -> None:
    make_user("root", is_staff=True, is_superuser=True)
    client = signed_in(Client(), "root")
    response = client.post(
        "/admin/sharing/recipient/add/",
        {
            "slug": "shipco",
            "name": "ShipCo",
            "country": "de",
            "contact": "privacy@shipco.example",
            "basis": "consent",
            "categories": ["name", "mailing_address"],
            "is_active": "on",
            "purposes-TOTAL_FORMS": "1",
            "purposes-INITIAL_FORMS": "0",
            "purposes-MIN_NUM_FORMS": "0",
            "purposes-MAX_NUM_FORMS": "1000",
            "purposes-0-code": "shipping",
            "purposes-0-description": "to ship your orders",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from safehold.sharing.models import Recipient

    recipient = Recipient.objects.get(slug="shipco")
    assert recipient.country == "DE"
    assert recipient.categories == ["name", "mailing_address"]
    assert recipient.purposes.get().description == "to ship your orders"


def test_the_pages_are_in_chinese(person, delivery) -> None:
    client = signed_in(Client(), "nadia")
    page = client.get("/account/sharing/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "共享您的数据" in page
    assert "同意与 FastPost Couriers 共享" in page
    assert "Sharing your data" not in page
    report = Client().get("/transparency", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "透明度报告" in report


def test_the_admin_leads_legal_staff_to_the_legal_pages(person, clerk, make_user) -> None:
    client = signed_in(Client(), "clerk")
    assert client.get("/admin/sharing/legalrequest/").status_code == 200
    response = client.get("/admin/sharing/legalrequest/add/")
    assert response["Location"] == "/staff/sharing/legal/new/"
    make_user("helpdesk", is_staff=True)
    assert signed_in(Client(), "helpdesk").get("/admin/sharing/legalrequest/").status_code == 403
