"""What an investor holds and what it gave: the selectors behind the portfolio page, its CSV
export and its charts.

Reads only; a fixed number of queries whatever the number of holdings. Amounts shown per
holding are the investor's pro-rata part of the offering's figures, rounded half-up for
display; what was actually paid is always the ledger's (distribution lines).

Conventions stated here because the page shows them:

* Accrued interest today: bonds by :func:`finance.schedules.accrued_interest` on the bonds
  held; loans linearly over the days of the installment being earned (the schedule rounds
  interest per installment, so this is an estimate, labelled as such).
* XIRR per holding: the investor's payments in (negative, on the day paid), every
  distribution received, and, for a holding still running, its value today (outstanding
  principal plus accrued interest) as if received today. A defaulted holding is valued at
  zero. Solved by :func:`finance.xirr.xirr`, which answers "undefined" or "several roots"
  rather than a wrong number; the page then shows a dash and why (:func:`xirr_note`).
  Overall XIRR is per currency: flows in different currencies are never added.
* Revenue share status: late when a report is overdue (only if the terms set a reporting
  frequency) or a share reported is not paid within
  :data:`finance.returns_services.REVENUE_SHARE_PAYMENT_DAYS`; repaid once the cap is
  reached and paid. A revenue share has no principal outstanding.
* Charts convert to USD with the reference rates (settings.PUENTE_REFERENCE_RATES_TO_USD),
  which is said on the chart: they show shape and proportion, not amounts to rely on.
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .ledger import Account, Leg
from .money import Money
from .offerings import Instrument, Offering, Payment, Pledge, Refund
from .returns import (
    BondIssue,
    CouponRun,
    DistributionLine,
    LoanSchedule,
    RevenueReport,
)
from .schedules import accrued_interest
from .xirr import XirrResult, XirrStatus, xirr

# --- Holdings ---------------------------------------------------------------------------------


class Status:
    ON_TIME = "on_time"
    LATE = "late"
    DEFAULTED = "defaulted"
    REPAID = "repaid"
    FUNDING = "funding"  # not disbursed yet
    DONATED = "donated"

    LABELS = {
        "on_time": gettext_lazy("On time"),
        "late": gettext_lazy("Late"),
        "defaulted": gettext_lazy("Defaulted"),
        "repaid": gettext_lazy("Repaid"),
        "funding": gettext_lazy("Awaiting disbursement"),
        "donated": gettext_lazy("Donation"),
    }


@dataclass
class Holding:
    offering: Offering
    invested: Money
    income_received: Money
    principal_returned: Money
    outstanding_principal: Money | None
    accrued_today: Money
    next_payments: list[tuple[datetime.date, Money]]
    status: str
    xirr: XirrResult | None
    flows: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    days_late: int = 0  # of the oldest installment overdue, for a late loan
    principal_returns: list[tuple[datetime.date, Decimal]] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.offering.currency

    @property
    def status_label(self) -> str:
        return str(Status.LABELS[self.status])

    @property
    def xirr_display(self) -> str:
        return xirr_display(self.xirr)

    @property
    def xirr_note(self) -> str:
        return xirr_note(self.xirr, self.flows)


XIRR_NOTES = {
    "history": gettext_lazy("not enough history yet"),
    "nothing_back": gettext_lazy("nothing received yet"),
    "no_single_rate": gettext_lazy("no single rate fits"),
}


def xirr_display(result: XirrResult | None) -> str:
    """A rate as a percentage with two decimals, or a dash when there is none: the words
    "undefined" or "several roots" read as an error to an investor; :func:`xirr_note` says
    why instead."""
    if result is not None and result.status == XirrStatus.OK:
        return f"{(result.rate * 100).quantize(Decimal('0.01'))}%"
    return "—"


def xirr_note(result: XirrResult | None, flows: Iterable[tuple[datetime.date, Decimal]]) -> str:
    """Why there is no rate, in words an investor understands; empty when there is one or
    when none is expected (a donation). A rate needs money moving on two different days,
    so a holding paid in today has no history yet."""
    if result is None or result.status == XirrStatus.OK:
        return ""
    if result.status == XirrStatus.SEVERAL_ROOTS:
        return str(XIRR_NOTES["no_single_rate"])
    net: dict[datetime.date, Decimal] = defaultdict(Decimal)
    for when, amount in flows:
        net[when] += amount
    moving = [amount for amount in net.values() if amount]
    if len(moving) < 2:
        return str(XIRR_NOTES["history"])
    if all(amount < 0 for amount in moving):
        return str(XIRR_NOTES["nothing_back"])
    return str(XIRR_NOTES["no_single_rate"])


@dataclass
class Portfolio:
    holdings: list[Holding]
    overall_xirr: dict[str, XirrResult]
    totals: dict[str, dict[str, Money]]
    impact: list[dict]
    today: datetime.date
    overall_flows: dict[str, list[tuple[datetime.date, Decimal]]] = field(default_factory=dict)

    @property
    def overall_xirr_display(self) -> dict[str, str]:
        return {currency: xirr_display(r) for currency, r in self.overall_xirr.items()}

    @property
    def overall_xirr_rows(self) -> dict[str, tuple[str, str]]:
        """Per currency, the overall rate shown and, when there is none, why."""
        return {
            currency: (
                xirr_display(result),
                xirr_note(result, self.overall_flows.get(currency, [])),
            )
            for currency, result in self.overall_xirr.items()
        }


def _share(amount: Decimal, weight: Fraction, currency: str) -> Money:
    return Money.from_fraction(Fraction(amount) * weight, currency)


def _loan_figures(schedule: LoanSchedule | None, weight: Fraction, currency: str, today):
    zero = Money.zero(currency)
    if schedule is None:
        return None, zero, [], Status.FUNDING
    installments = list(schedule.installments.all())
    outstanding = sum((i.principal - i.principal_paid for i in installments), Decimal("0"))
    unpaid = [i for i in installments if not i.is_paid]
    accrued = Decimal("0")
    if unpaid and schedule.status == LoanSchedule.Status.ACTIVE:
        current = unpaid[0]
        previous = next(
            (i.due_date for i in installments if i.number == current.number - 1),
            schedule.start_date,
        )
        span = (current.due_date - previous).days
        if span > 0:
            elapsed = min(max((today - previous).days, 0), span)
            accrued = (current.interest - current.interest_paid) * elapsed / span
    next_payments = [(i.due_date, _share(i.outstanding, weight, currency)) for i in unpaid[:3]]
    if schedule.status == LoanSchedule.Status.WRITTEN_OFF:
        status = Status.DEFAULTED
    elif schedule.status == LoanSchedule.Status.REPAID:
        status = Status.REPAID
    elif any(i.due_date < today for i in unpaid):
        status = Status.LATE
    else:
        status = Status.ON_TIME
    return (
        _share(outstanding, weight, currency),
        _share(accrued, weight, currency),
        next_payments,
        status,
    )


def _bond_figures(issue: BondIssue | None, units: int, paid_dates: set, currency: str, today):
    zero = Money.zero(currency)
    if issue is None:
        return None, zero, [], Status.FUNDING
    if issue.redeemed_on is not None:
        return zero, zero, [], Status.REPAID
    periods = issue.periods(units=units)
    accrued = Money(accrued_interest(periods, today), currency).quantize()
    upcoming = [p for p in periods if p.payment_date > today and p.payment_date not in paid_dates]
    next_payments = [(p.payment_date, p.coupon) for p in upcoming[:3]]
    if len(next_payments) < 3 and not upcoming[3:]:
        next_payments.append((periods[-1].payment_date, periods[-1].face))
        next_payments = next_payments[:3]
    overdue = [p for p in periods if p.payment_date <= today and p.payment_date not in paid_dates]
    status = Status.LATE if overdue else Status.ON_TIME
    return periods[0].face, accrued, next_payments, status


def _revenue_figures(
    offering: Offering, reports: list[RevenueReport], weight: Fraction, currency: str, today
):
    """Next payments, status and days late of a revenue share. Late: a report overdue (when
    the terms set a reporting frequency) or a share reported and not paid within
    REVENUE_SHARE_PAYMENT_DAYS; repaid: the cap reached and paid."""
    from .returns_services import (
        REVENUE_REPORT_GRACE_DAYS,
        REVENUE_SHARE_PAYMENT_DAYS,
        revenue_disbursed_on,
        revenue_report_overdue,
    )

    disbursed_on = revenue_disbursed_on(offering)
    if disbursed_on is None:
        return [], Status.FUNDING, 0
    unpaid = [r for r in reports if r.status == RevenueReport.Status.DUE]
    to_pay = datetime.timedelta(days=REVENUE_SHARE_PAYMENT_DAYS)
    expected = [
        (
            timezone.localdate(r.submitted_at) + to_pay,
            _share(r.share_due - r.share_paid, weight, currency),
        )
        for r in unpaid
    ]
    late_since = [when for when, _amount in expected if when < today]
    overdue = revenue_report_overdue(
        offering, disbursed_on=disbursed_on, reports=reports, today=today
    )
    if overdue is not None:
        late_since.append(overdue[1] + datetime.timedelta(days=REVENUE_REPORT_GRACE_DAYS))
    if late_since:
        return expected[:3], Status.LATE, (today - min(late_since)).days
    if not unpaid and any(r.cap_reached for r in reports):
        return [], Status.REPAID, 0
    return expected[:3], Status.ON_TIME, 0


def portfolio_for(investor, *, today: datetime.date | None = None) -> Portfolio:
    """Every holding of ``investor`` with its figures, the overall XIRR per currency, totals
    per currency and the impact of the projects funded."""
    today = today or timezone.localdate()
    pledges = list(
        Pledge.objects.filter(investor=investor, status=Pledge.Status.PAID)
        .select_related(
            "offering",
            "offering__project",
            "offering__project__territory",
            "offering__disbursement",
        )
        .order_by("paid_at", "pk")
    )
    offering_ids = {p.offering_id for p in pledges}
    totals_paid = dict(
        Pledge.objects.filter(offering_id__in=offering_ids, status=Pledge.Status.PAID)
        .values("offering_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("offering_id", "total")
    )
    lines_by_offering: dict[int, list] = defaultdict(list)
    for line in (
        DistributionLine.objects.filter(investor=investor)
        .select_related("distribution")
        .order_by("distribution__paid_on", "pk")
    ):
        lines_by_offering[line.distribution.offering_id].append(line)
    schedules = {
        s.offering_id: s
        for s in LoanSchedule.objects.filter(offering_id__in=offering_ids)
        .exclude(status=LoanSchedule.Status.SUPERSEDED)
        .prefetch_related("installments")
    }
    issues = {
        i.offering_id: i
        for i in BondIssue.objects.filter(offering_id__in=offering_ids).select_related("offering")
    }
    revenue_reports: dict[int, list[RevenueReport]] = defaultdict(list)
    revenue_ids = {
        p.offering_id for p in pledges if p.offering.instrument == Instrument.REVENUE_SHARE
    }
    if revenue_ids:
        for report in RevenueReport.objects.filter(offering_id__in=revenue_ids).order_by(
            "offering_id", "period_start"
        ):
            revenue_reports[report.offering_id].append(report)
    paid_dates: dict[int, set] = defaultdict(set)
    for offering_id, payment_date in CouponRun.objects.filter(offering_id__in=issues).values_list(
        "offering_id", "payment_date"
    ):
        paid_dates[offering_id].add(payment_date)

    by_offering: dict[int, list[Pledge]] = defaultdict(list)
    for pledge in pledges:
        by_offering[pledge.offering_id].append(pledge)

    holdings = []
    for offering_id, own in by_offering.items():
        offering = own[0].offering
        currency = offering.currency
        invested_amount = sum((p.amount for p in own), Decimal("0"))
        invested = Money(invested_amount, currency)
        lines = lines_by_offering.get(offering_id, [])
        income = Money(sum((ln.income for ln in lines), Decimal("0")), currency)
        returned = Money(sum((ln.principal for ln in lines), Decimal("0")), currency)
        flows = [
            (timezone.localdate(p.paid_at) if p.paid_at else today, -(p.amount + p.fee))
            for p in own
        ]
        flows += [(ln.distribution.paid_on, ln.income + ln.principal) for ln in lines]
        weight = Fraction(invested_amount) / Fraction(totals_paid.get(offering_id) or 1)
        zero = Money.zero(currency)
        days_late = 0
        if offering.instrument == Instrument.LOAN:
            outstanding, accrued, next_payments, status = _loan_figures(
                schedules.get(offering_id), weight, currency, today
            )
        elif offering.instrument == Instrument.BOND:
            units = int(invested_amount / offering.face_value) if offering.face_value else 0
            outstanding, accrued, next_payments, status = _bond_figures(
                issues.get(offering_id), units, paid_dates[offering_id], currency, today
            )
        elif offering.instrument == Instrument.REVENUE_SHARE:
            outstanding, accrued = None, zero
            next_payments, status, days_late = _revenue_figures(
                offering, revenue_reports[offering_id], weight, currency, today
            )
        else:
            outstanding, accrued, next_payments, status = None, zero, [], Status.DONATED
        if offering.status == Offering.Status.SUCCEEDED and status != Status.DONATED:
            status = Status.FUNDING
        result = None
        if status != Status.DONATED:
            if status not in (Status.DEFAULTED, Status.REPAID, Status.FUNDING) and outstanding:
                value_today = (outstanding + accrued).amount
                if value_today:
                    flows.append((today, value_today))
            result = xirr(flows)
        holdings.append(
            Holding(
                offering=offering,
                invested=invested,
                income_received=income,
                principal_returned=returned,
                outstanding_principal=outstanding,
                accrued_today=accrued,
                next_payments=next_payments,
                status=status,
                xirr=result,
                flows=flows,
                principal_returns=[(ln.distribution.paid_on, ln.principal) for ln in lines],
                days_late=(today - next_payments[0][0]).days
                if status == Status.LATE and offering.instrument == Instrument.LOAN
                else days_late,
            )
        )

    overall: dict[str, XirrResult] = {}
    overall_flows: dict[str, list[tuple[datetime.date, Decimal]]] = {}
    totals: dict[str, dict[str, Money]] = {}
    for holding in holdings:
        currency = holding.currency
        zero = Money.zero(currency)
        t = totals.setdefault(
            currency,
            {"invested": zero, "income": zero, "returned": zero, "outstanding": zero},
        )
        t["invested"] += holding.invested
        t["income"] += holding.income_received
        t["returned"] += holding.principal_returned
        t["outstanding"] += holding.outstanding_principal or zero
    for currency in totals:
        flows = [
            flow
            for h in holdings
            if h.currency == currency and h.status != Status.DONATED
            for flow in h.flows
        ]
        overall[currency] = xirr(flows)
        overall_flows[currency] = flows
    return Portfolio(
        holdings=holdings,
        overall_xirr=overall,
        totals=totals,
        impact=impact_for([h.offering for h in holdings]),
        today=today,
        overall_flows=overall_flows,
    )


def impact_for(offerings: Iterable[Offering]) -> list[dict]:
    """The projects behind the offerings, with their planned figures and the indicators of
    their latest verified impact report."""
    from projects.models import ImpactReport

    projects = {o.project_id: o.project for o in offerings if o.project_id}
    latest: dict[int, ImpactReport] = {}
    for report in (
        ImpactReport.objects.filter(project_id__in=projects, verified_at__isnull=False)
        .prefetch_related("values")
        .order_by("project_id", "-period_end")
    ):
        latest.setdefault(report.project_id, report)
    return [
        {
            "project": project,
            "jobs_planned": project.jobs_planned,
            "beneficiaries_planned": project.beneficiaries_planned,
            "report": latest.get(pk),
            "values": list(latest[pk].values.all()) if pk in latest else [],
        }
        for pk, project in projects.items()
    ]


# --- Transactions (CSV) -----------------------------------------------------------------------

CSV_COLUMNS = (
    "date",
    "transaction_id",
    "kind",
    "memo",
    "account",
    "amount",
    "currency",
)


def investor_ledger_rows(investor) -> list[tuple]:
    """Every ledger leg that concerns the investor, oldest first: legs on their own accounts
    (wallet, withdrawals set aside) and, for their pledge payments and refunds, the amount
    from their side (paid in negative, refunded positive)."""
    own = (
        Leg.objects.filter(account__user=investor)
        .select_related("transaction", "account")
        .order_by("transaction__created_at", "pk")
    )
    rows = [
        (
            leg.transaction.created_at,
            leg.transaction_id,
            leg.transaction.kind,
            leg.transaction.memo,
            leg.account.get_kind_display(),
            leg.money.amount,
            leg.currency,
        )
        for leg in own
    ]
    payment_keys = [
        f"payment:{pk}:captured"
        for pk in Payment.objects.filter(pledge__investor=investor).values_list("pk", flat=True)
    ]
    refund_keys = list(
        Refund.objects.filter(payment__pledge__investor=investor).values_list(
            "idempotency_key", flat=True
        )
    )
    outside = (
        Leg.objects.filter(
            Q(transaction__idempotency_key__in=payment_keys)
            | Q(transaction__idempotency_key__in=refund_keys),
            account__kind=Account.Kind.EXTERNAL,
        )
        .exclude(account__user=investor)
        .select_related("transaction")
    )
    for leg in outside:
        # The external leg of a payment is what left the investor's pocket; negate it to
        # read from their side.
        rows.append(
            (
                leg.transaction.created_at,
                leg.transaction_id,
                leg.transaction.kind,
                leg.transaction.memo,
                _("Your payment method"),
                leg.money.amount,
                leg.currency,
            )
        )
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def transactions_csv(investor) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for created_at, txn_id, kind, memo, account, amount, currency in investor_ledger_rows(investor):
        # Text cells starting with = + - @ would run as formulas in a spreadsheet.
        memo = "'" + memo if memo[:1] in ("=", "+", "-", "@") else memo
        writer.writerow(
            [created_at.isoformat(), txn_id, kind, memo, account, f"{amount:f}", currency]
        )
    return buffer.getvalue()


# --- Charts (server-side SVG, fine in a PDF) --------------------------------------------------


def _to_usd(money: Money) -> Decimal:
    return money.amount * settings.PUENTE_REFERENCE_RATES_TO_USD.get(money.currency, Decimal("0"))


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    # The coordinates run left to right whatever the page's direction: direction="ltr"
    # keeps text anchors where they are drawn in right-to-left pages, and stops
    # WeasyPrint from laying out SVG text of an Arabic statement glyph by glyph
    # backwards (unjoined letters in reverse order). Arabic labels still read right
    # to left: the bidi algorithm orders each text run.
    return mark_safe(  # noqa: S308 - every text is escaped below
        f'<svg xmlns="http://www.w3.org/2000/svg" direction="ltr" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _drawn(text: str) -> str:
    """Text for an SVG <text> element, escaped. WeasyPrint lays SVG text out one character
    at a time, so a combining mark that NFC leaves on its own (the shadda of the Arabic
    "محوّلة", say) is drawn on a dotted circle of its own. Such marks are left out of
    what is drawn (Arabic reads as well without them) and kept in the titles, which
    screen readers and tooltips show."""
    composed = unicodedata.normalize("NFC", str(text))
    return escape("".join(char for char in composed if unicodedata.category(char) != "Mn"))


def _fmt(value: Decimal) -> str:
    return number_format(value.quantize(Decimal("1")), decimal_pos=0, force_grouping=True)


def svg_bar_chart(
    title: str, bars: list[tuple[str, Decimal]], *, width=480, height=200, note=""
) -> str:
    """Vertical bars with a label under each, on two lines where the label has a newline;
    negative values are drawn as zero."""
    left, bottom, top = 50, 34, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max((v for _label, v in bars), default=Decimal(0)) or Decimal(1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{escape(_fmt(peak))}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    if note:
        body.append(f'<text x="{left}" y="12" fill="#555">{_drawn(note)}</text>')
    step = plot_w / max(len(bars), 1)
    for index, (label, value) in enumerate(bars):
        h = max(value, Decimal(0)) / peak * plot_h  # pixels, kept in Decimal
        x = left + index * step + step * 0.15
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="#2f7d6d"><title>{escape(label.replace(chr(10), " "))}: '
            f"{escape(_fmt(value))}</title></rect>"
        )
        for line, text in enumerate(label.split("\n")):
            body.append(
                f'<text x="{x + step * 0.35:.1f}" y="{top + plot_h + 12 + line * 11}" '
                f'text-anchor="middle" font-size="9">{_drawn(text)}</text>'
            )
    return _svg(width, height, title, body)


def svg_hbar_chart(title: str, rows: list[tuple[str, Decimal]], *, width=480) -> str:
    """Horizontal bars, each under its label, with the share of the total written at its
    end. The label has a line of its own, the whole width: a sector's name ("Agriculture
    and agro-processing", longer still in Spanish) does not fit in a margin beside a bar."""
    row_h, pad = 34, 4
    height = row_h * max(len(rows), 1) + pad
    total = sum((v for _label, v in rows), Decimal(0)) or Decimal(1)
    body = []
    for index, (label, value) in enumerate(rows):
        y = pad + index * row_h
        w = value / total * (width - 2 * pad - 56)
        percent = (value * 100 / total).quantize(Decimal("0.1"))
        body.append(
            f'<text x="{pad}" y="{y + 11}">{_drawn(label)}</text>'
            f'<rect x="{pad}" y="{y + 16}" width="{w:.1f}" height="12" fill="#c7673a"/>'
            f'<text x="{pad + w + 4:.1f}" y="{y + 26}">{escape(number_format(percent))}%</text>'
        )
    return _svg(width, height, title, body)


def _short_date(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def svg_line_chart(
    title: str,
    series: list[tuple[str, str, list[tuple[datetime.date, Decimal]]]],
    *,
    width=480,
    height=220,
    note="",
) -> str:
    """Lines over time: each series is (name, colour, [(date, value)]), with a legend. Dates
    are written as the page writes them in its tables (SHORT_DATE_FORMAT: the Arabic one
    carries right-to-left marks, so it reads in order in the left-to-right drawing); a series
    of one point is a dot."""
    left, right, top, bottom = 55, 10, 30, 30
    points = [p for _n, _c, values in series for p in values]
    if not points:
        # Outside the f-string, where the catalogs' extraction would not see it.
        empty = _drawn(_("No data yet"))
        return _svg(width, height, title, [f'<text x="10" y="20">{empty}</text>'])
    first = min(d for d, _v in points)
    last = max(d for d, _v in points)
    span = max((last - first).days, 1)
    peak = max((v for _d, v in points), default=Decimal(1)) or Decimal(1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(d, v):
        return (
            left + (d - first).days / span * plot_w,
            top + plot_h - max(v, Decimal(0)) / peak * plot_h,
        )

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{escape(_fmt(peak))}</text>',
        f'<text x="{left}" y="{height - 10}">{_drawn(_short_date(first))}</text>',
    ]
    if last != first:
        body.append(
            f'<text x="{left + plot_w}" y="{height - 10}" text-anchor="end">'
            f"{_drawn(_short_date(last))}</text>"
        )
    if note:
        body.append(f'<text x="{left}" y="12" fill="#555">{_drawn(note)}</text>')
    for index, (name, colour, values) in enumerate(series):
        coords = " ".join("{:.1f},{:.1f}".format(*xy(d, v)) for d, v in values)
        body.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if len(values) == 1:
            body.append(
                '<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}"/>'.format(*xy(*values[0]), colour)
            )
        body.append(
            f'<rect x="{left + 10 + index * 135}" y="{top - 12}" width="10" height="10" '
            f'fill="{colour}"/><text x="{left + 24 + index * 135}" y="{top - 3}">'
            f"{_drawn(name)}</text>"
        )
    return _svg(width, height, title, body)


def _month(d: datetime.date) -> datetime.date:
    return d.replace(day=1)


def _months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, current = [], _month(first)
    while current <= last:
        months.append(current)
        current = (current + datetime.timedelta(days=32)).replace(day=1)
    return months


def _month_label(month: datetime.date, *, with_year: bool) -> str:
    """A month under a bar: its short name, and the year on a second line for the first bar
    and each January ("11/26" read as the 26th of November)."""
    name = date_format(month, "M")
    return f"{name}\n{month.year}" if with_year else name


def portfolio_charts(portfolio: Portfolio) -> dict[str, str]:
    """The four charts of the portfolio page as SVG strings. A time chart with nothing to
    draw over time is an empty string, and the page says why instead: "value" while all
    money moved on a single day (today), "income" while nothing was received."""
    note = _("Approximate, converted to USD at reference rates")
    today = portfolio.today
    income_by_month: dict[datetime.date, Decimal] = defaultdict(Decimal)
    capital_events: list[tuple[datetime.date, Decimal]] = []
    income_events: list[tuple[datetime.date, Decimal]] = []
    by_country: dict[str, Decimal] = defaultdict(Decimal)
    by_sector: dict[str, Decimal] = defaultdict(Decimal)
    # The value line: what is still invested (paid in less principal returned) in
    # loans, bonds and revenue shares at each date, and today what each holding is
    # worth (outstanding principal; nothing once defaulted or repaid). Donations are
    # given, not held: they have no value line.
    value_events: list[tuple[datetime.date, Decimal]] = []
    value_today = Decimal(0)
    for holding in portfolio.holdings:
        rate = settings.PUENTE_REFERENCE_RATES_TO_USD.get(holding.currency, Decimal(0))
        if holding.status == Status.DONATED:
            continue
        value_events += [(when, -amount * rate) for when, amount in holding.flows if amount < 0]
        value_events += [(when, -amount * rate) for when, amount in holding.principal_returns]
        if holding.status in (Status.REPAID, Status.DEFAULTED):
            continue
        live = holding.outstanding_principal or holding.invested
        value_today += (live + holding.accrued_today).amount * rate
    for holding in portfolio.holdings:
        rate = settings.PUENTE_REFERENCE_RATES_TO_USD.get(holding.currency, Decimal(0))
        project = holding.offering.project
        country = (
            str(project.territory.country.name)
            if project and project.territory_id
            else _("Bond issuers")
        )
        sector = (project.get_sector_display() if project and project.sector else "") or _("Other")
        if holding.offering.instrument == Instrument.BOND:
            sector = _("Diaspora bonds")
        live = holding.outstanding_principal or holding.invested
        if holding.status in (Status.REPAID, Status.DEFAULTED):
            live = Money.zero(holding.currency)
        by_country[country] += _to_usd(live)
        by_sector[sector] += _to_usd(live)
        for when, amount in holding.flows:
            if when == today and amount > 0 and holding.status != Status.REPAID:
                continue  # the value-today flow of XIRR is not a payment received
            if amount < 0:
                capital_events.append((when, -amount * rate))
            else:
                income_events.append((when, amount * rate))
                income_by_month[_month(when)] += amount * rate
    events = sorted(capital_events + income_events)
    first = events[0][0] if events else today
    months = _months(first, today)
    # A point on the day of the first payment, at the start of each month after it, and
    # today: money paid in this month draws a line from the day it was paid.
    month_starts = [(m + datetime.timedelta(days=32)).replace(day=1) for m in months]
    dates = sorted({first, today, *(d for d in month_starts if first < d < today)})
    invested_line, received_line, value_line = [], [], []
    for end in dates:
        invested_line.append((end, sum((v for d, v in capital_events if d <= end), Decimal(0))))
        received_line.append((end, sum((v for d, v in income_events if d <= end), Decimal(0))))
        if end == today:
            value_line.append((end, value_today))
        else:
            held = sum((v for d, v in value_events if d <= end), Decimal(0))
            value_line.append((end, max(held, Decimal(0))))
    last_year = months[-12:]
    value_chart = ""
    if len(dates) > 1:
        value_chart = svg_line_chart(
            _("Value, invested and received over time"),
            [
                (_("Value"), "#c7673a", value_line),
                (_("Paid in"), "#2f5d8a", invested_line),
                (_("Received back"), "#2f7d6d", received_line),
            ],
            note=note,
        )
    income_chart = ""
    if income_events:
        income_chart = svg_bar_chart(
            _("Money received by month"),
            [
                (
                    _month_label(m, with_year=index == 0 or m.month == 1),
                    income_by_month.get(m, Decimal(0)),
                )
                for index, m in enumerate(last_year)
            ],
            note=note,
        )
    return {
        "value": value_chart,
        "income": income_chart,
        "country": svg_hbar_chart(
            _("Allocation by country"), sorted(by_country.items(), key=lambda kv: -kv[1])
        ),
        "sector": svg_hbar_chart(
            _("Allocation by sector"), sorted(by_sector.items(), key=lambda kv: -kv[1])
        ),
    }
