"""Chinese and English, chosen by the browser; the compiled catalogue is committed."""

import gettext
import re
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "config" / "locale" / "zh_Hans" / "LC_MESSAGES"


def po_entries() -> dict[str, str]:
    """Return msgid → msgstr of the zh_Hans .po (plain entries; the header left out)."""
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    entries = {}
    for block in text.split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block, re.M)
        if match:
            msgid, msgstr = (
                "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', group)).replace('\\"', '"')
                for group in match.groups()
            )
            if msgid:
                entries[msgid] = msgstr
    return entries


def test_every_string_of_ours_has_a_chinese_translation():
    entries = po_entries()

    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert len(entries) > 90
    assert untranslated == []


def test_the_committed_mo_matches_the_po():
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    stale = [m for m, s in po_entries().items() if compiled.gettext(m.replace("\\n", "\n")) != s]

    assert stale == [], "run manage.py compilemessages and commit django.mo"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "expected", "absent"),
    [
        ("zh-hans", ["门店", "导购", "会员", "品牌"], ["Stores", "Guides"]),
        ("zh-CN,zh;q=0.9", ["门店", "导购", "会员"], ["Guides"]),
        ("en", ["Stores", "Guides", "Members"], ["门店"]),
    ],
)
def test_admin_speaks_the_browsers_language(org, accept_language, expected, absent):
    client = Client(headers={"accept-language": accept_language})
    client.force_login(org.users["hq"])

    html = client.get("/admin/").content.decode()

    for word in expected:
        assert word in html, word
    for word in absent:
        assert f">{word}<" not in html, word


@pytest.mark.django_db
def test_guide_dashboard_in_chinese(org):
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(org.users["guide_sh01"])

    html = client.get("/admin/").content.decode()

    assert "今日佣金" in html
    assert "本周我的新会员" in html


@pytest.mark.django_db
def test_language_switch_overrides_the_browser(org):
    client = Client(headers={"accept-language": "en"})
    client.force_login(org.users["hq"])

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    html = client.get("/admin/stores/store/").content.decode()

    assert "门店" in html
