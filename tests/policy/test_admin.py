"""Staff write, preview and publish versions in the admin; a published one is read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from safehold.policy import services
from safehold.policy.models import StatementVersion
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ADMIN = "/admin/policy/statementversion/"


@pytest.fixture
def editor_client(client, make_user):  # type: ignore[no-untyped-def]
    editor = make_user("editor", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="policy",
            codename__in=[
                "add_statementversion",
                "change_statementversion",
                "view_statementversion",
                "add_statementtext",
                "change_statementtext",
                "view_statementtext",
                "delete_statementtext",
                "preview_version",
            ],
        )
    )
    client.post("/accounts/login/", {"login": "editor", "password": TEST_PASSWORD})
    client.editor = editor
    return client


def _add_draft(client) -> StatementVersion:  # type: ignore[no-untyped-def]
    answer = client.post(
        f"{ADMIN}add/",
        {
            "material": "on",
            "texts-TOTAL_FORMS": "2",
            "texts-INITIAL_FORMS": "0",
            "texts-MIN_NUM_FORMS": "1",
            "texts-MAX_NUM_FORMS": "1000",
            "texts-0-language": "en",
            "texts-0-summary": "Shorter.",
            "texts-0-body": "# Statement\n\nWritten in the admin.",
            "texts-1-language": "zh-hans",
            "texts-1-summary": "更短。",
            "texts-1-body": "# 声明\n\n在管理后台撰写。",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return StatementVersion.objects.get(number=2)


def test_a_draft_written_in_the_admin_is_previewed_then_published_with_permission(
    editor_client, clock
) -> None:  # type: ignore[no-untyped-def]
    draft = _add_draft(editor_client)
    assert not draft.is_published
    assert draft.material
    assert (
        "Written in the admin." in editor_client.get(f"/privacy/draft/{draft.pk}/").content.decode()
    )

    publish_url = f"{ADMIN}{draft.pk}/publish/"
    assert editor_client.get(publish_url).status_code == 403  # no publish permission yet
    editor_client.editor.user_permissions.add(Permission.objects.get(codename="publish_version"))
    page = editor_client.get(publish_url)
    assert page.status_code == 200
    assert "Written in the admin." in page.content.decode()
    when = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    done = editor_client.post(publish_url, {"effective_at": when})
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    assert services.version_status(draft) == "scheduled"
    assert draft.published_by == editor_client.editor


def test_a_published_version_is_read_only_in_the_admin(editor_client) -> None:  # type: ignore[no-untyped-def]
    page = editor_client.get(f"{ADMIN}1/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert "texts-0-body" not in html
    editor_client.post(
        f"{ADMIN}1/change/",
        {
            "material": "on",
            "texts-TOTAL_FORMS": "1",
            "texts-INITIAL_FORMS": "1",
            "texts-0-body": "rewritten",
        },
    )
    v1 = StatementVersion.objects.get(number=1)
    assert not v1.material
    assert "rewritten" not in v1.texts.get(language="en").body
    assert editor_client.post(f"{ADMIN}1/delete/", {"post": "yes"}).status_code == 403
    assert StatementVersion.objects.filter(number=1).exists()
