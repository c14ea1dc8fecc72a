"""Every page in English and Simplified Chinese, switched by a plain form."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

import safehold

PACKAGE = Path(safehold.__file__).parent
# The main catalogue, and each feature app's own.
PO_FILES = sorted(PACKAGE.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


@pytest.mark.django_db
def test_language_switch_without_javascript(client: Client) -> None:
    page = client.get("/")
    assert "Welcome to SMM" in page.content.decode()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'lang="zh-hans"' in page
    assert "欢迎" in page
    assert "Welcome to SMM" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/accounts/signup/", "/account/password-hint/send/"]
)
def test_pages_in_chinese_by_accept_language(client: Client, path: str) -> None:
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page
    assert "登录" in page or "注册" in page or "欢迎" in page


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_string_of_ours_is_translated(po_file: Path) -> None:
    import polib

    catalogue = polib.pofile(str(po_file))
    missing = [entry.msgid for entry in catalogue if not entry.translated() and not entry.obsolete]
    assert missing == []
    assert catalogue.percent_translated() == 100
