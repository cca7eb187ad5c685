"""The calculators of the financial-literacy lessons.

Each is a Django form (so it works as a plain form that posts back, without
JavaScript) and a ``compute()`` that turns clean input into figures. Loan and bond
figures come from ``finance.schedules`` and amounts are ``finance.money.Money``:
the lessons show the same numbers the portal uses for real offerings, never a
second implementation of the same mathematics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from finance.daycount import DayCount
from finance.exceptions import FinanceError
from finance.forms import parse_amount
from finance.money import Money
from finance.schedules import (
    LoanKind,
    bond_redemption,
    bond_schedule,
    loan_schedule,
    yield_to_maturity,
)

#: SDG target 10.c: remittance costs of no more than 3% of the amount sent, by 2030.
SDG_REMITTANCE_TARGET_PERCENT = Decimal("3")
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")

# Limits beyond which an input is a typing mistake rather than a plan; each is
# stated next to the field when it is exceeded.
MAX_AMOUNT = Decimal("10000000")


class _NumberField(forms.DecimalField):
    """A number as people write it in the page's language: a decimal comma or
    point, thousands grouped (the pledge form's reading, `parse_amount`)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_amount(str(value))
        except forms.ValidationError as error:
            if error.code == "ambiguous":
                raise
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


def _decimal_field(label, *, min_value, max_value, decimal_places=2, help_text="", initial=None):
    return _NumberField(
        label=label,
        min_value=min_value,
        max_value=max_value,
        max_digits=12,
        decimal_places=decimal_places,
        help_text=help_text,
        initial=initial,
        localize=True,  # "2,5" in French, as people type it there
        error_messages={
            "required": _("Enter a number."),
            "invalid": _("Enter a number, using digits and a decimal point (e.g. 1250.50)."),
            "min_value": _("Enter a number of at least %(limit_value)s."),
            "max_value": _(
                "That is more than this calculator handles: enter at most %(limit_value)s."
            ),
            "max_digits": _("Enter a shorter number."),
            "max_decimal_places": _("Use at most %(max)s decimal places."),
            "max_whole_digits": _("Enter a smaller number."),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _integer_field(label, *, min_value, max_value, initial=None, help_text=""):
    return forms.IntegerField(
        label=label,
        min_value=min_value,
        max_value=max_value,
        initial=initial,
        help_text=help_text,
        error_messages={
            "required": _("Enter a whole number."),
            "invalid": _("Enter a whole number."),
            "min_value": _("Enter a number of at least %(limit_value)s."),
            "max_value": _(
                "That is more than this calculator handles: enter at most %(limit_value)s."
            ),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def _currency_field():
    return forms.ChoiceField(
        label=_("Currency"),
        choices=[(code, code) for code in settings.PUENTE_CURRENCIES],
        initial=settings.PUENTE_DEFAULT_CURRENCY,
    )


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount, currency).quantize()


def _fmt(money: Money) -> str:
    return money.localized()


def _pct(value: Decimal) -> Decimal:
    return value.quantize(PERCENT_PLACES, ROUND_HALF_UP)


class CalculatorForm(forms.Form):
    def compute(self) -> dict:
        raise NotImplementedError

    def result(self) -> dict | None:
        """The figures for valid input; None (and a form error) otherwise."""
        if not self.is_valid():
            return None
        try:
            return self.compute()
        except (FinanceError, ValueError, ArithmeticError):
            self.add_error(None, _("These figures cannot be calculated; check them and retry."))
            return None


# --- Remittance cost -------------------------------------------------------------------


class RemittanceCostForm(CalculatorForm):
    amount = _decimal_field(
        _("Amount you send"), min_value=Decimal("1"), max_value=Decimal("1000000"), initial=300
    )
    currency = _currency_field()
    fee = _decimal_field(
        _("Transfer fee"), min_value=Decimal("0"), max_value=Decimal("100000"), initial=5
    )
    margin_percent = _decimal_field(
        _("Exchange-rate margin (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        initial=Decimal("2.5"),
        help_text=_("How much worse than the mid-market rate the provider's rate is, in percent."),
    )

    def clean(self):
        data = super().clean()
        amount, fee = data.get("amount"), data.get("fee")
        if amount is not None and fee is not None and fee >= amount:
            self.add_error("fee", _("The fee must be less than the amount you send."))
        return data

    def compute(self) -> dict:
        data = self.cleaned_data
        currency, amount = data["currency"], data["amount"]
        margin_cost = Money(amount * data["margin_percent"] / HUNDRED, currency)
        total = (Money(data["fee"], currency) + margin_cost).quantize()
        cost_percent = total.amount / amount * HUNDRED
        target = _money(amount * SDG_REMITTANCE_TARGET_PERCENT / HUNDRED, currency)
        return {
            "margin_cost": _fmt(margin_cost.quantize()),
            "total_cost": _fmt(total),
            "cost_percent": _pct(cost_percent),
            "target_percent": SDG_REMITTANCE_TARGET_PERCENT,
            "target_cost": _fmt(target),
            "above_target": cost_percent > SDG_REMITTANCE_TARGET_PERCENT,
            "excess": _fmt(max(total - target, Money.zero(currency))),
            "received": _fmt(_money(amount, currency) - total),
        }


# --- Invest part of what I send ---------------------------------------------------------


class PlannerForm(CalculatorForm):
    monthly_amount = _decimal_field(
        _("Amount you invest each month"),
        min_value=Decimal("1"),
        max_value=Decimal("100000"),
        initial=50,
    )
    currency = _currency_field()
    years = _integer_field(_("For how many years"), min_value=1, max_value=50, initial=5)
    annual_return_percent = _decimal_field(
        _("Expected return per year (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("30"),
        initial=Decimal("5"),
        help_text=_("Returns are never guaranteed; try a lower figure too."),
    )

    def compute(self) -> dict:
        data = self.cleaned_data
        currency, monthly = data["currency"], data["monthly_amount"]
        months = data["years"] * 12
        rate = data["annual_return_percent"] / HUNDRED / 12
        with localcontext() as context:
            context.prec = 40
            # Contributions at the end of each month, returns compounded monthly.
            if rate:
                final = monthly * ((1 + rate) ** months - 1) / rate
            else:
                final = monthly * months
        final_value = _money(final, currency)
        contributed = _money(monthly * months, currency)
        yearly_income = _money(final * data["annual_return_percent"] / HUNDRED, currency)
        return {
            "months": months,
            "contributed": _fmt(contributed),
            "final_value": _fmt(final_value),
            "growth": _fmt(final_value - contributed),
            "yearly_income": _fmt(yearly_income),
            "monthly_income": _fmt(_money(yearly_income.amount / 12, currency)),
        }


# --- Loan repayment schedule -------------------------------------------------------------


class LoanForm(CalculatorForm):
    principal = _decimal_field(
        _("Amount borrowed"), min_value=Decimal("1"), max_value=MAX_AMOUNT, initial=5000
    )
    currency = _currency_field()
    annual_rate_percent = _decimal_field(
        _("Interest rate per year (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        initial=Decimal("12"),
    )
    months = _integer_field(_("Length in months"), min_value=1, max_value=360, initial=24)
    kind = forms.ChoiceField(
        label=_("How it is repaid"),
        choices=[
            (LoanKind.ANNUITY.value, _("Equal payments")),
            (LoanKind.EQUAL_PRINCIPAL.value, _("Equal principal, falling payments")),
            (LoanKind.INTEREST_ONLY.value, _("Interest only, principal at the end")),
        ],
        initial=LoanKind.ANNUITY.value,
    )

    def compute(self) -> dict:
        data = self.cleaned_data
        currency = data["currency"]
        installments = loan_schedule(
            _money(data["principal"], currency),
            annual_rate=data["annual_rate_percent"] / HUNDRED,
            periods=data["months"],
            periods_per_year=12,
            kind=LoanKind(data["kind"]),
            start_date=timezone.localdate(),
        )
        total_paid = sum((i.payment for i in installments), Money.zero(currency))
        total_interest = sum((i.interest for i in installments), Money.zero(currency))
        return {
            "first_payment": _fmt(installments[0].payment),
            "last_payment": _fmt(installments[-1].payment),
            "total_paid": _fmt(total_paid),
            "total_interest": _fmt(total_interest),
            "rows": [
                {
                    "number": i.number,
                    "due_date": i.due_date,
                    "payment": _fmt(i.payment),
                    "interest": _fmt(i.interest),
                    "principal": _fmt(i.principal),
                    "balance": _fmt(i.closing_balance),
                }
                for i in installments
            ],
        }


# --- Bond coupon and yield ---------------------------------------------------------------


class BondForm(CalculatorForm):
    face = _decimal_field(
        _("Face value you buy"), min_value=Decimal("1"), max_value=MAX_AMOUNT, initial=1000
    )
    currency = _currency_field()
    coupon_percent = _decimal_field(
        _("Coupon rate per year (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("30"),
        initial=Decimal("6"),
    )
    years = _integer_field(_("Years to maturity"), min_value=1, max_value=30, initial=5)
    frequency = forms.TypedChoiceField(
        label=_("Coupons per year"),
        coerce=int,
        choices=[(1, _("Once a year")), (2, _("Twice a year")), (4, _("Four times a year"))],
        initial=2,
    )
    price = _decimal_field(
        _("Price paid per 100 of face value"),
        min_value=Decimal("1"),
        max_value=Decimal("300"),
        initial=Decimal("100"),
        help_text=_("100 means you pay the face value; 98 means paying 2 below the face value."),
    )

    def compute(self) -> dict:
        data = self.cleaned_data
        currency, frequency = data["currency"], data["frequency"]
        issue = timezone.localdate()
        # Coupon dates are counted back from maturity on the issue day of the month; a
        # 28th keeps the demonstration free of end-of-month stubs.
        issue = date(issue.year, issue.month, min(issue.day, 28))
        day_count = DayCount.THIRTY_360_BOND_BASIS
        periods = bond_schedule(
            issue,
            tenor_months=data["years"] * 12,
            frequency=frequency,
            rate=data["coupon_percent"] / HUNDRED,
            face=_money(data["face"], currency),
            day_count=day_count,
        )
        redemption = bond_redemption(periods)
        ytm = yield_to_maturity(
            periods,
            redemption,
            clean_price=data["price"],
            settlement_date=issue,
            frequency=frequency,
            day_count=day_count,
        )
        total_coupons = sum((p.coupon for p in periods), Money.zero(currency))
        cost = _money(data["face"] * data["price"] / HUNDRED, currency)
        return {
            "coupon": _fmt(periods[0].coupon),
            "coupons": len(periods),
            "total_coupons": _fmt(total_coupons),
            "cost": _fmt(cost),
            "total_received": _fmt(total_coupons + redemption.amount),
            "yield_percent": _pct(ytm * HUNDRED),
            "maturity": redemption.payment_date,
            "rows": [{"date": p.payment_date, "coupon": _fmt(p.coupon)} for p in periods],
        }


@dataclass(frozen=True)
class Calculator:
    kind: str
    title: str
    form_class: type[CalculatorForm]
    result_template: str


CALCULATORS: dict[str, Calculator] = {
    "remittance_cost": Calculator(
        "remittance_cost",
        _("What does your transfer really cost?"),
        RemittanceCostForm,
        "cms/calculators/remittance_cost.html",
    ),
    "planner": Calculator(
        "planner",
        _("Invest part of what you send"),
        PlannerForm,
        "cms/calculators/planner.html",
    ),
    "loan": Calculator("loan", _("Loan repayment schedule"), LoanForm, "cms/calculators/loan.html"),
    "bond": Calculator("bond", _("Bond coupons and yield"), BondForm, "cms/calculators/bond.html"),
}


def run_calculator(kind: str, data, *, block_id: str) -> dict:
    """Bind posted data to a calculator's form: the state the block template shows
    (the form with what was typed and any errors, and the figures when valid)."""
    form = CALCULATORS[kind].form_class(data, prefix=f"c-{block_id}")
    return {"form": form, "result": form.result()}
