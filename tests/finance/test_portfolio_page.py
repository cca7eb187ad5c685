"""The portfolio page as a new investor meets it: a holding paid in today has no rate of
return and no history to draw yet, and the page says so in words rather than "undefined"
or empty axes; dates and labels on the charts read as the page's language writes them."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext

from finance.offerings import Pledge
from finance.portfolio import (
    XIRR_NOTES,
    portfolio_charts,
    portfolio_for,
    svg_hbar_chart,
    xirr_display,
    xirr_note,
)
from finance.xirr import XirrResult, XirrStatus, xirr
from tests.finance.test_returns import new_loan_holder

# The URLconf that mounts the returns pages for their tests.
pytestmark = pytest.mark.urls("tests.finance.test_returns_views")
D = Decimal
LANGUAGES = ("en", "es", "fr", "pt", "ar")


def xirr_cells(body: str) -> list[str]:
    return re.findall(r"<td data-(?:overall-)?xirr[^>]*>(.*?)</td>", body, re.S)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_loan_shows_a_dash_and_why_not_undefined(client, db, language):
    client.force_login(new_loan_holder())
    body = client.get(f"/{language}/portfolio/").content.decode()
    cells = xirr_cells(body)
    assert len(cells) == 2  # the holding and the USD total
    with translation.override(language):
        undefined = gettext("undefined")
        note = escape(str(XIRR_NOTES["history"]))
    for cell in cells:
        assert cell.startswith("—")
        assert note in cell
        assert undefined not in cell and "undefined" not in cell


def test_the_note_says_why_there_is_no_rate():
    day = datetime.date(2026, 3, 2)
    later = day + datetime.timedelta(days=40)
    one_day = [(day, D("-100"))]
    assert xirr_note(xirr(one_day), one_day) == str(XIRR_NOTES["history"])
    paid_twice = [(day, D("-100")), (later, D("-50"))]
    assert xirr_note(xirr(paid_twice), paid_twice) == str(XIRR_NOTES["nothing_back"])
    assert xirr_note(XirrResult(XirrStatus.SEVERAL_ROOTS), []) == str(XIRR_NOTES["no_single_rate"])
    returned = [(day, D("-100")), (later, D("110"))]
    assert xirr_note(xirr(returned), returned) == ""
    assert xirr_display(xirr(returned)).endswith("%")
    assert xirr_note(None, []) == ""  # a donation: no rate is expected
    assert xirr_display(XirrResult(XirrStatus.UNDEFINED)) == "—"


def test_money_moved_only_today_gives_sentences_instead_of_empty_charts(client, db):
    person = new_loan_holder()
    charts = portfolio_charts(portfolio_for(person))
    assert charts["value"] == "" and charts["income"] == ""
    client.force_login(person)
    body = client.get("/en/portfolio/").content.decode()
    assert body.count("<svg") == 2  # country and sector
    assert 'data-chart-empty="value"' in body and "Not enough history yet" in body
    assert 'data-chart-empty="income"' in body and "Nothing received yet" in body


def test_money_paid_earlier_this_month_draws_a_line_from_that_day(db):
    person = new_loan_holder()
    paid_at = datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC)
    Pledge.objects.filter(investor=person).update(paid_at=paid_at)
    svg = portfolio_charts(portfolio_for(person, today=datetime.date(2026, 3, 20)))["value"]
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 3 and all(len(points.split()) == 2 for points in lines)


@pytest.mark.parametrize("language", LANGUAGES)
def test_chart_dates_are_written_in_the_page_language(paid_bond, language):
    _offering, holders = paid_bond
    today = datetime.date(2025, 8, 1)
    with translation.override(language):
        charts = portfolio_charts(portfolio_for(holders[0], today=today))
        today_written = escape(date_format(today, "SHORT_DATE_FORMAT"))
        july_written = escape(date_format(datetime.date(2025, 7, 1), "M"))
    assert not re.search(r"\d{4}-\d\d-\d\d", charts["value"])
    assert f">{today_written}</text>" in charts["value"]
    assert not re.search(r">\d\d/\d\d<", charts["income"])
    assert f">{july_written}</text>" in charts["income"]


def test_a_long_sector_name_is_drawn_whole_on_its_own_line():
    label = "Agriculture and agro-processing"
    svg = svg_hbar_chart("Allocation by sector", [(label, D(60)), ("Tourism", D(40))])
    drawn = re.search(rf'<text x="(\d+)" y="\d+"( text-anchor="\w+")?>{label}</text>', svg)
    assert drawn is not None
    # Starting at the left edge, the name has the chart's whole width (480) to itself.
    assert int(drawn.group(1)) < 10 and drawn.group(2) is None
