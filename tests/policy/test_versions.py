"""The statement's life: the default version 1, drafts, publication (now and scheduled),
immutability, per-language pages, the history and the diff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from safehold.audit.events import EventType
from safehold.audit.models import Event
from safehold.audit.services import EventRecord
from safehold.core.promises import CLAUSES
from safehold.policy import rendering, services
from safehold.policy.exceptions import NotPublishable, VersionImmutable
from safehold.policy.models import StatementText, StatementVersion
from tests.policy.conftest import v1_text

pytestmark = pytest.mark.django_db


def _published_events() -> list[Event]:
    return list(Event.objects.filter(event_type=EventType.STATEMENT_PUBLISHED).order_by("seq"))


def test_the_default_statement_is_version_1_in_both_languages_and_covers_every_clause() -> None:
    v1 = StatementVersion.objects.get(number=1)
    assert v1.is_published
    assert services.current_version_number() == 1
    assert sorted(t.language for t in v1.texts.all()) == ["en", "zh-hans"]
    for text in v1.texts.all():
        ids = rendering.section_ids(text.body)
        assert set(CLAUSES) <= set(ids), (text.language, set(CLAUSES) - set(ids))
    assert services.cookie_section_version() == 1  # the first cookie section counts as a change
    # Installed by migrate, not by anyone: the audit log starts with people's own events.
    assert _published_events() == []


def test_privacy_names_the_operator_from_the_settings_in_english_and_chinese(
    client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_OPERATOR_NAME = "Harbour Metals"
    settings.SAFEHOLD_CONTACT_EMAIL = "privacy@harbour.example"
    page = client.get("/privacy/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Harbour Metals runs this website" in html
    assert "privacy@harbour.example" in html
    assert "{{" not in html
    assert 'id="cookies"' in html
    zh = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Harbour Metals运营本网站" in zh
    assert "隐私声明" in zh


def test_a_version_without_the_readers_language_falls_back_to_english(client, publish) -> None:  # type: ignore[no-untyped-def]
    publish({"en": "# Statement\n\nOnly in English."})
    html = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Only in English." in html
    assert 'lang="en"' in html


def test_publishing_now_replaces_the_statement_and_keeps_the_old_one_at_its_url(
    client, publish
) -> None:  # type: ignore[no-untyped-def]
    v2 = publish(
        {"en": v1_text().replace("As our services grow", "Whenever our services change")},
        summaries={"en": "Clearer wording about updates."},
    )
    assert v2.number == 2
    assert services.current_version_number() == 2
    assert "Whenever our services change" in client.get("/privacy/").content.decode()
    old = client.get("/privacy/v1/").content.decode()
    assert "As our services grow" in old
    assert "This version has been replaced." in old
    history = client.get("/privacy/history/").content.decode()
    assert "/privacy/v1/" in history
    assert "/privacy/v2/" in history
    assert "Clearer wording about updates." in history
    assert "/privacy/diff/1...2/" in history
    event = _published_events()[-1]
    assert EventRecord.from_bytes(bytes(event.data)).detail_dict["version"] == 2


def test_a_scheduled_version_takes_over_by_itself_when_its_date_comes(
    client, publish, clock
) -> None:  # type: ignore[no-untyped-def]
    when = clock.now() + timedelta(days=3)
    v2 = publish({"en": "# Statement\n\nThe new words."}, effective_at=when)
    assert services.version_status(v2) == "scheduled"
    assert services.current_version_number() == 1
    page = client.get("/privacy/").content.decode()
    assert "The new words." not in page
    assert "Version 2 will take effect on" in page
    assert "The new words." in client.get("/privacy/v2/").content.decode()  # readable ahead

    clock.forward(timedelta(days=3, seconds=1))  # no job, no publication: only time passes

    assert services.current_version_number() == 2
    assert services.version_status(v2) == "current"
    assert "The new words." in client.get("/privacy/").content.decode()


def test_an_effective_date_in_the_past_means_now(publish, clock) -> None:  # type: ignore[no-untyped-def]
    v2 = publish({"en": "# S\n\nx"}, effective_at=clock.now() - timedelta(days=30))
    assert v2.effective_at >= clock.now() - timedelta(seconds=5)
    v1 = StatementVersion.objects.get(number=1)
    assert v2.effective_at >= v1.effective_at  # history is never rewritten


def test_a_published_version_cannot_be_changed_or_deleted() -> None:
    v1 = StatementVersion.objects.get(number=1)
    v1.material = True
    with pytest.raises(VersionImmutable):
        v1.save()
    with pytest.raises(VersionImmutable):
        v1.delete()
    text = v1.texts.get(language="en")
    text.body = "# Quietly rewritten"
    with pytest.raises(VersionImmutable):
        text.save()
    with pytest.raises(VersionImmutable):
        text.delete()
    with pytest.raises(VersionImmutable):
        StatementText(version=v1, language="zh-hans", body="x").save()
    fresh = StatementVersion.objects.get(number=1)
    assert not fresh.material
    assert "Quietly rewritten" not in fresh.texts.get(language="en").body


def test_the_database_refuses_an_update_of_a_published_version() -> None:
    v1 = StatementVersion.objects.get(number=1)
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        StatementText.objects.filter(version=v1).update(body="rewritten around the model")
    with pytest.raises(DatabaseError), transaction.atomic():
        StatementVersion.objects.filter(pk=v1.pk).update(material=True)
    assert "rewritten" not in StatementText.objects.filter(version=v1).first().body  # type: ignore[union-attr]
    assert connection.vendor in ("sqlite", "postgresql")


def test_a_draft_stays_editable_until_published_and_is_published_once(publish) -> None:  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor

    draft = services.create_draft(texts={"en": "# S\n\nfirst"})
    text = draft.texts.get()
    text.body = "# S\n\nsecond"
    text.save()
    draft.material = True
    draft.save()
    assert services.version_status(draft) == "draft"
    services.publish_version(draft, actor=Actor.system())
    with pytest.raises(NotPublishable):
        services.publish_version(draft, actor=Actor.system())
    no_english = services.create_draft(texts={"zh-hans": "# 声明"})
    with pytest.raises(NotPublishable):
        services.publish_version(no_english, actor=Actor.system())


def test_drafts_are_not_public_but_staff_with_the_permission_preview_them(
    client, make_user
) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Permission

    from tests.conftest import TEST_PASSWORD

    draft = services.create_draft(texts={"en": "# Draft\n\nNot yet public."})
    assert client.get(f"/privacy/v{draft.number}/").status_code == 404
    assert client.get(f"/api/v1/statement/{draft.number}").status_code in (401, 404)
    editor = make_user("editor", is_staff=True)
    client.post("/accounts/login/", {"login": "editor", "password": TEST_PASSWORD})
    assert client.get(f"/privacy/draft/{draft.pk}/").status_code == 403
    editor.user_permissions.add(Permission.objects.get(codename="preview_version"))
    page = client.get(f"/privacy/draft/{draft.pk}/")
    assert page.status_code == 200
    assert "Not yet public." in page.content.decode()
    assert "Preview of a draft" in page.content.decode()


def test_script_in_the_markdown_is_neutralised(client, publish) -> None:  # type: ignore[no-untyped-def]
    hostile = (
        "# Statement\n\n"
        "<script>alert('page')</script>\n\n"
        "Click [here](javascript:alert('link')) or "
        '<a href="#" onclick="alert(\'click\')">here</a>.\n\n'
        '<img src="https://tracker.example/p.gif" onerror="alert(\'img\')">\n\n'
        '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>\n\n'
        "[fine link](https://example.org/) and **bold**."
    )
    v = publish({"en": hostile})
    for html in (
        client.get(f"/privacy/v{v.number}/").content.decode(),
        str(rendering.render_markdown(hostile)),
    ):
        assert "alert(" not in html
        assert "javascript:" not in html
        assert "onclick" not in html
        assert "onerror" not in html
        assert "<iframe" not in html
        assert "<img" not in html
        assert "tracker.example" not in html
        assert "display:none" not in html
        assert (
            '<a href="https://example.org/" rel="noopener noreferrer nofollow">fine link</a>'
            in html
        )
        assert "<strong>bold</strong>" in html


def test_the_diff_marks_removed_and_added_words_and_escapes_the_text(client, publish) -> None:  # type: ignore[no-untyped-def]
    publish({"en": "# S\n\nWe keep your data for one year.\n\nUnchanged line.\n\nDropped line."})
    publish(
        {"en": "# S\n\nWe keep your data for six months.\n\nUnchanged line.\n\n<b>new</b> line."}
    )
    page = client.get("/privacy/diff/2...3/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<del>one year.</del>" in html
    assert "<ins>six months.</ins>" in html
    assert "&lt;b&gt;new&lt;/b&gt;" in html
    assert "<b>new</b>" not in html
    assert "Unchanged line." in html
    # The history's compare form leads to the same stable address.
    chosen = client.get("/privacy/diff/", {"old": 2, "new": 3})
    assert chosen.status_code == 302
    assert chosen["Location"] == "/privacy/diff/2...3/"
    same = client.get("/privacy/diff/", {"old": 2, "new": 2})
    assert same.status_code == 400
    assert "Choose two different versions." in same.content.decode()
    assert client.get("/privacy/diff/1...99/").status_code == 404


def test_the_cookie_section_version_follows_changes_to_the_cookie_section(publish, clock) -> None:  # type: ignore[no-untyped-def]
    base = v1_text()
    other = base.replace("Comments and suggestions", "Questions and suggestions")
    v2 = publish({"en": other, "zh-hans": v1_text("zh-hans")})
    assert not v2.cookie_section_changed
    assert services.cookie_section_version() == 1
    cookies = other.replace("A cookie is a small file", "A cookie is a small text file")
    v3 = publish(
        {"en": cookies, "zh-hans": v1_text("zh-hans")}, effective_at=clock.now() + timedelta(days=1)
    )
    assert v3.cookie_section_changed
    assert services.cookie_section_version() == 1  # not in force yet
    clock.forward(timedelta(days=2))
    assert services.cookie_section_version() == 3
