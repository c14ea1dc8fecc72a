"""Helpers for the contact tests: post the form as a person would, a while after opening it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from safehold.feedback import forms, ratelimit
from tests.conftest import TEST_PASSWORD

STAMP = re.compile(r'name="started" value="([^"]+)"')


def stamp_from(page: str) -> str:
    match = STAMP.search(page)
    assert match, "the contact form carries a signed timestamp"
    return match.group(1)


@pytest.fixture(autouse=True)
def _one_rate_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limits count in fixed windows: keep each test inside one (the middle of an
    hour), so that a test never straddles a window's end and sees its counts reset."""
    now = time.time()
    fixed = (now // 3600) * 3600 + 1800
    monkeypatch.setattr(ratelimit, "_clock", lambda: fixed)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the form's clock forward (a person takes a while to type)."""

    offset = [0.0]
    monkeypatch.setattr(forms, "_clock", lambda: time.time() + offset[0])

    def move(seconds: float) -> None:
        offset[0] += seconds

    return move


@pytest.fixture
def send(django_capture_on_commit_callbacks, later):  # type: ignore[no-untyped-def]
    """Open /contact/ with ``client``, wait (on the form's clock), post ``data``.

    Mail goes once the request commits, as in production.
    """

    def post(client: Client, data: dict[str, Any], *, wait: float = 30) -> Any:
        page = client.get("/contact/").content.decode()
        fields = {"category": "suggestion", "started": stamp_from(page), "website": "", **data}
        later(wait)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/contact/", fields)

    return post


@pytest.fixture
def make_staff(make_user):  # type: ignore[no-untyped-def]
    """A signed-in staff client with the given feedback permissions."""

    def make(username: str, *codenames: str, is_staff: bool = True) -> tuple[Any, Client]:
        user = make_user(username, is_staff=is_staff)
        for codename in codenames:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="feedback", codename=codename)
            )
        client = Client()
        response = client.post("/accounts/login/", {"login": username, "password": TEST_PASSWORD})
        assert response.status_code == 302
        return user, client

    return make
