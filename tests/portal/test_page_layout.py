"""What every page shares: content in another language than the page's says
which way it runs, wide tables scroll in a box of their own on a phone, and
pages load the script that shows a form is being sent (the browser tests in
tests/e2e/test_layout_and_busy_forms.py watch them at work)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import Context, Template

from portal.templatetags.languages import lang_attrs

APPS = ("cms", "finance", "portal", "projects")
PORTAL_WRAPPER = '<div class="table-scroll" tabindex="0">'
# The Wagtail admin does not load site.css; its own stylesheet has this class.
ADMIN_WRAPPER = '<div class="w-overflow-x-auto" tabindex="0">'


@pytest.mark.parametrize(
    ("code", "attributes"),
    [
        ("en", ' lang="en" dir="ltr"'),
        ("pt", ' lang="pt" dir="ltr"'),
        ("ar", ' lang="ar" dir="rtl"'),
        ("", ""),
        (None, ""),
    ],
)
def test_content_in_another_language_says_which_way_it_runs(code, attributes):
    assert lang_attrs(code) == attributes


def test_lang_attrs_in_a_template_escape_the_code():
    template = Template("{% load languages %}<dd{% lang_attrs code %}>")
    assert template.render(Context({"code": "en"})) == '<dd lang="en" dir="ltr">'
    assert template.render(Context({"code": '"><b>'})) == (
        '<dd lang="&quot;&gt;&lt;b&gt;" dir="ltr">'
    )


def _templates():
    base = Path(settings.BASE_DIR)
    for app in APPS:
        for folder in ("templates", "jinja2"):
            yield from sorted((base / app / folder).rglob("*.html"))


def test_every_table_scrolls_in_a_box_of_its_own():
    """At 375 px a statement or a portfolio is wider than the screen: the table
    scrolls sideways inside its box instead of widening the whole page."""
    unwrapped = []
    for path in _templates():
        if path.name == "statement_pdf.html":  # an A4 PDF, not a screen
            continue
        text = path.read_text()
        in_admin = "admin" in path.parts or '{% extends "wagtailadmin/' in text
        wrapper = ADMIN_WRAPPER if in_admin else PORTAL_WRAPPER
        for table in re.finditer(r"<table\b", text):
            if not text[: table.start()].endswith(wrapper):
                line = text.count("\n", 0, table.start()) + 1
                unwrapped.append(f"{path.relative_to(settings.BASE_DIR)}:{line}")
    assert not unwrapped, unwrapped


@pytest.mark.django_db
def test_pages_load_the_script_that_shows_a_form_is_being_sent(client):
    html = client.get("/ar/accounts/login/").content.decode()
    assert re.search(r'<script src="[^"]*portal/submitting\.js" defer></script>', html)
    script = Path(finders.find("portal/submitting.js"))
    assert script.stat().st_size < 3 * 1024
