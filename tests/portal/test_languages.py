"""Five interface languages: URLs, switching, right-to-left Arabic, and
catalogs with nothing left untranslated."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.html import strip_tags

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
TRANSLATED = ["es", "fr", "pt", "ar"]


@pytest.mark.parametrize("code", ["en", "es", "fr", "pt", "ar"])
def test_every_language_serves_the_home_and_login_pages(client, seeded, code):
    for path in (f"/{code}/", f"/{code}/accounts/login/", f"/{code}/accounts/signup/"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in html


def test_home_page_content_is_in_the_visitors_language(client, seeded):
    assert "Sus ahorros pueden construir" in client.get("/es/").content.decode()
    assert "مدخراتك" in client.get("/ar/").content.decode()


def test_switcher_keeps_the_current_page_and_remembers_the_choice(client, user):
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/en/dashboard/investor/"})
    assert response.status_code == 302
    assert response["Location"] == "/ar/dashboard/investor/"
    user.refresh_from_db()
    assert user.preferred_language == "ar"
    page = client.get(response["Location"]).content.decode()
    assert 'dir="rtl"' in page


def test_switcher_works_for_anonymous_visitors(client, seeded):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/en/accounts/login/"})
    assert response["Location"] == "/fr/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


@pytest.mark.parametrize(
    "cookie, browser, page, language, lands_on",
    [
        ("fr", "fr", "/ar/projects/?sector=agriculture", "fr", "/fr/projects/?sector=agriculture"),
        ("", "en", "/fr/accounts/login/", "en", "/en/accounts/login/"),
        ("es", "en", "/pt/learn/", "ar", "/ar/learn/"),
    ],
)
def test_switcher_works_whatever_language_the_cookie_or_the_browser_speak(
    client, seeded, cookie, browser, page, language, lands_on
):
    # The switcher's address has no language prefix: the request arrives in the
    # cookie's or the browser's language, not in the page's.
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.post(
        "/i18n/setlang/", {"language": language, "next": page}, HTTP_ACCEPT_LANGUAGE=browser
    )
    assert response["Location"] == lands_on
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == language


def test_unknown_language_is_a_404_page_not_a_500(client, seeded):
    response = client.get("/xx/accounts/login/", follow=True)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_404_page_speaks_spanish_on_spanish_urls(client, seeded):
    response = client.get("/es/no-such-page/")
    assert response.status_code == 404
    assert "Página no encontrada" in response.content.decode()


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalog_has_every_message_translated(code):
    with open(LOCALE_DIR / code / "LC_MESSAGES" / "django.po", "rb") as handle:
        catalog = read_po(handle)
    missing = [
        message.id
        for message in catalog
        if message.id
        and (
            not message.string
            or (isinstance(message.string, tuple) and not all(message.string))
            or message.fuzzy
        )
    ]
    assert not missing, f"{len(missing)} untranslated in {code}: {missing[:10]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalog_matches_the_source(code):
    """The .mo files are committed so a fresh machine needs no gettext tools;
    they must say what the .po files say."""
    import gettext

    folder = LOCALE_DIR / code / "LC_MESSAGES"
    with open(folder / "django.po", "rb") as handle:
        catalog = read_po(handle)
    with open(folder / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        message.id
        for message in catalog
        if message.id
        and isinstance(message.id, str)
        and message.context is None
        and compiled.gettext(message.id) != message.string
    ]
    assert not stale, f"run `make messages`: {stale[:5]}"


def test_spanish_pages_of_the_portal_show_no_english(client, seeded):
    """Every user-facing string of the portal's own templates is in the
    catalog; render the pages in Spanish and look for English leftovers."""
    from portal.models import User

    english_markers = [
        "Log in",
        "Sign up",
        "Skip to main content",
        "Language",
        "Investing carries risk",
        "Your profile",
        "Account security",
        "Welcome,",
        "dashboard",
    ]
    client.force_login(User.objects.get(email="entrepreneur@puente.example"))
    for path in [
        "/es/",
        "/es/dashboard/investor/",
        "/es/dashboard/entrepreneur/",
        "/es/profile/",
        "/es/organizations/",
    ]:
        html = client.get(path).content.decode()
        body = strip_tags(html[html.find("<body") :])
        for marker in english_markers:
            assert marker not in body, f"{marker!r} in English on {path}"


@pytest.mark.parametrize(
    "language, grouped, date_time",
    [
        ("ar", "26,000.50", "25 فبراير 2027، 7:21 م"),
        ("pt", "26\u00a0000,50", "25 de fevereiro de 2027 às 19:21"),
        ("es", "26,000.50", "25 de febrero de 2027 a las 19:21"),
        ("fr", "26\u202f000,50", "25 février 2027 19:21"),
        ("en", "26,000.50", "Feb. 25, 2027, 7:21 p.m."),
    ],
)
def test_numbers_and_dates_use_the_marks_money_uses(language, grouped, date_time):
    import datetime
    from decimal import Decimal

    from django.utils import formats, translation

    from finance.money import Money

    with translation.override(language):
        assert formats.number_format(Decimal("26000.50"), 2, force_grouping=True) == grouped
        # Money (Babel) groups and separates decimals with the same marks.
        assert grouped in Money(Decimal("26000.50"), "USD").localized()
        moment = datetime.datetime(2027, 2, 25, 19, 21)
        assert formats.date_format(moment, "DATETIME_FORMAT") == date_time


def test_each_language_s_name_in_the_switcher_keeps_its_own_direction(client, seeded):
    html = client.get("/en/accounts/login/").content.decode()
    switcher = html.split('class="language-switcher"')[1].split("</form>")[0]
    assert 'value="ar" lang="ar" dir="rtl">العربية</button>' in switcher
    assert 'value="fr" lang="fr" dir="ltr">' in switcher
    arabic = client.get("/ar/accounts/login/").content.decode()
    assert 'value="en" lang="en" dir="ltr"' in arabic.split('class="language-switcher"')[1]
