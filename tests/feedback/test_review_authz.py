"""Authorization review: a person's export and erasure reach only their own messages.

A message sent while signed in belongs to its sender. When the address it was sent
from later belongs to someone else (the sender changed address; the old one was
verified on another account), that other person must not receive it in "download
my data", and erasing them must not delete it.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from safehold.audit.services import Actor
from safehold.feedback import services
from safehold.feedback.models import Category, ContactMessage

ADDRESS = "shared@example.test"


def _send(sender, email: str, body: str) -> ContactMessage:  # type: ignore[no-untyped-def]
    return services.send_message(
        sender=sender,
        email=email,
        name="",
        category=Category.COMMENT,
        body=body,
        language="en",
        actor=Actor.system(),
    )


@pytest.mark.django_db
def test_signed_in_messages_stay_with_their_sender_when_the_address_moves(make_user) -> None:  # type: ignore[no-untyped-def]
    bob = make_user("bob", email=ADDRESS)
    bobs = _send(bob, ADDRESS, "Bob's own question, sent while signed in")
    # Bob moves to another address; the old one is verified on Alice's account.
    EmailAddress.objects.filter(user=bob).delete()
    EmailAddress.objects.create(user=bob, email="bob@example.test", primary=True, verified=True)
    alice = make_user("alice", email=ADDRESS)
    anonymous = _send(None, ADDRESS, "Sent without signing in, from the address")

    exported = {row["reference"] for row in services.export_rows(alice)}
    assert bobs.reference not in exported
    assert anonymous.reference in exported  # anonymous mail from her address is hers

    services.erase_messages_of(alice)
    assert ContactMessage.objects.filter(pk=bobs.pk).exists()
    assert not ContactMessage.objects.filter(pk=anonymous.pk).exists()
    assert bobs.reference in {row["reference"] for row in services.export_rows(bob)}
