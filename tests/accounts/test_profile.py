from __future__ import annotations

import pytest
from django.test import Client

from safehold.accounts.forms import normalise_phone
from safehold.accounts.models import User


def test_profile_is_saved_and_phone_stored_in_e164(alice_client: Client, alice: User) -> None:
    response = alice_client.post(
        "/account/profile/",
        {
            "name": "  Alice   Wong ",
            "mailing_address": "1 Harbour Road\n\n  Wan Chai ",
            "phone": "+86 138 0013 8000",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice Wong"
    assert alice.mailing_address == "1 Harbour Road\nWan Chai"
    assert alice.phone == "+8613800138000"
    centre = alice_client.get("/account/").content.decode()
    assert "Alice Wong" in centre
    assert "+86 138 0013 8000" in centre


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 555 0000 0000 0000"}, "phone"),
        ({"phone": "call me maybe"}, "phone"),
        ({"name": "n" * 151}, "name"),
        ({"mailing_address": "a" * 501}, "mailing_address"),
    ],
)
def test_bad_profile_input_is_refused_and_nothing_changes(
    alice_client: Client, alice: User, data, field
) -> None:  # type: ignore[no-untyped-def]
    alice_client.post(
        "/account/profile/",
        {"name": "Alice", "mailing_address": "Here", "phone": "+44 20 7946 0958"},
    )
    post = {"name": "Changed", "mailing_address": "Elsewhere", "phone": ""}
    post.update(data)
    response = alice_client.post("/account/profile/", post)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    alice.refresh_from_db()
    assert (alice.name, alice.mailing_address, alice.phone) == ("Alice", "Here", "+442079460958")


def test_phone_needs_a_country_code_unless_a_region_is_set(settings) -> None:  # type: ignore[no-untyped-def]
    from django import forms

    with pytest.raises(forms.ValidationError) as caught:
        normalise_phone("020 7946 0958", None)
    assert caught.value.code == "phone_needs_country"
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("", None) == ""
