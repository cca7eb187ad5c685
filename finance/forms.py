import random
import re
from decimal import Decimal, InvalidOperation

from babel.numbers import get_decimal_symbol, get_group_symbol
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.amounts import display_locale
from portal.forms import FieldsCopiedPerForm

from .offerings import Pledge


class PledgeForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(
        label=_("How you will pay"),
        choices=Pledge.Method.choices,
        widget=forms.RadioSelect,
        initial=Pledge.Method.CARD,
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, offering, **kwargs):
        super().__init__(*args, **kwargs)
        self.offering = offering

    def clean_amount(self) -> Decimal:
        amount = parse_amount(self.cleaned_data["amount"])
        if amount <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        if amount > Decimal("1000000000"):
            raise forms.ValidationError(_("That amount is too large."))
        return amount


# Built on every pledge: its fields are shared, not deep-copied, between forms.
PledgeForm.base_fields = FieldsCopiedPerForm(PledgeForm.base_fields, per_form=())


class KnowledgeTestForm(forms.Form):
    acknowledge_risk = forms.BooleanField(
        label=_(
            "I understand that I may lose part or all of the money I invest, that returns are "
            "not guaranteed and that I may not get my money back before the end of the term."
        )
    )

    def __init__(self, *args, questions, order_for=None, **kwargs):
        """`order_for` (a person's key) shuffles each question's choices, the same
        way every time for that person: written with the right answer first more
        often than not, the test could be passed by always picking the first."""
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            choices = list(enumerate(question.choices))
            if order_for is not None:
                random.Random(f"{order_for}:{question.key}").shuffle(choices)  # noqa: S311
            self.fields[question.key] = forms.TypedChoiceField(
                label=question.text,
                coerce=int,
                widget=forms.RadioSelect,
                choices=choices,
            )

    def answers(self) -> dict[str, int]:
        return {q.key: self.cleaned_data[q.key] for q in self.questions}


# Whitespace of any width and apostrophes only ever group thousands (1 000, 1'000).
_GROUPING_ONLY = re.compile(r"[\s\u202f\u2009'\u2019]")
# Arabic-Indic and Eastern Arabic-Indic digits, and the Arabic decimal and
# thousands separators, as an Arabic keyboard types them.
_ARABIC = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
_AMOUNT = re.compile(r"-?[0-9.,]*[0-9][0-9.,]*")


def parse_amount(raw: str) -> Decimal:
    """An amount as people write it, in the page's language: thousands grouped
    with spaces, apostrophes, commas or points; a decimal point or comma.

    Both marks in one amount: the last is the decimal one ("1.000,50",
    "1,000.50"). One mark, repeated, groups thousands ("1.000.000"). One mark
    once, followed by other than three digits, is the decimal one ("12,5",
    "12.50"). "12.500" or "12,500" is the one case two readings share: the
    language's own marks decide (a comma groups and a point is decimal in
    English, Spanish and Arabic; a comma is decimal in French and Portuguese),
    and a mark the language uses for neither is refused with both readings,
    never guessed: money read a thousand times too small or too large is not
    a typo to correct later."""
    text = _GROUPING_ONLY.sub("", raw.strip().translate(_ARABIC))
    if not _AMOUNT.fullmatch(text):
        raise forms.ValidationError(_("Enter an amount such as 250 or 250.50."))
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    marks = [mark for mark in digits if mark in ".,"]
    if not marks:
        return _decimal(sign + digits)
    last = marks[-1]
    grouping = {".": ",", ",": "."}[last]
    if marks.count(last) == 1 and grouping in marks:
        whole, fraction = digits.rsplit(last, 1)
        return _decimal(sign + _grouped(whole, grouping) + "." + fraction)
    if len(marks) > 1:
        return _decimal(sign + _grouped(digits, last))
    whole, fraction = digits.split(last)
    # Only 1 to 3 digits, not led by a zero, stand before a thousands mark: "1311,890" and
    # "0,500" can only be decimals.
    if len(fraction) != 3 or not 1 <= len(whole) <= 3 or whole.startswith("0"):
        return _decimal(sign + whole + "." + fraction)
    locale = display_locale()
    if last == get_decimal_symbol(locale):
        return _decimal(sign + whole + "." + fraction)
    if last == get_group_symbol(locale):
        return _decimal(sign + whole + fraction)
    raise forms.ValidationError(
        _(
            "%(written)s can be read two ways. Write it without a thousands separator: "
            "%(grouped)s, or %(decimal)s."
        ),
        code="ambiguous",
        params={
            "written": raw.strip(),
            "grouped": whole + fraction,
            "decimal": whole
            + (get_decimal_symbol(locale) + fraction)
            .rstrip("0")
            .rstrip(get_decimal_symbol(locale)),
        },
    )


def _grouped(digits: str, mark: str) -> str:
    """`digits` without its thousands mark, which must group by threes."""
    groups = digits.split(mark)
    if not (1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])):
        raise forms.ValidationError(_("Enter an amount such as 250 or 250.50."))
    return "".join(groups)


def _decimal(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(_("Enter an amount such as 250 or 250.50.")) from None
    if not amount.is_finite():
        raise forms.ValidationError(_("Enter an amount such as 250 or 250.50."))
    if abs(amount) > Decimal("1000000000000"):
        raise forms.ValidationError(_("That amount is too large."))
    return amount


class RevenueReportForm(forms.Form):
    """What the entrepreneur reports for a period. The rules on the figures and the period
    (not negative, the offering's currency, after the disbursement, not overlapping) are the
    service's, `revenue_report_submit`: its refusals come back on the field they name."""

    period_start = forms.DateField(
        label=_("First day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the first day of the period.")},
    )
    period_end = forms.DateField(
        label=_("Last day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the last day of the period.")},
    )
    revenue = forms.CharField(
        label=_("Revenue for the period"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": _(
                "Enter the revenue for the period (0 if there was none); it cannot be left out."
            )
        },
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    document = forms.FileField(
        label=_("Supporting document"),
        help_text=_("Sales ledger, bank statement or accounts: PDF, JPEG, PNG or WebP."),
        error_messages={"required": _("Attach a document supporting the figure.")},
    )

    def __init__(self, *args, offering, **kwargs):
        super().__init__(*args, **kwargs)
        self.offering = offering
        self.fields["currency"].initial = offering.currency
        self.fields["revenue"].help_text = _(
            "In %(currency)s, before costs. Enter 0 if there was none."
        ) % {"currency": offering.currency}

    def clean_revenue(self) -> Decimal:
        # The sign is judged by the service, which says what to do with a loss.
        return parse_amount(self.cleaned_data["revenue"])

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean_document(self):
        from portal.uploads import DOCUMENT_TYPES, EXTENSION_LABELS, validate_upload

        upload = self.cleaned_data["document"]
        content_type = validate_upload(upload, allowed=DOCUMENT_TYPES)
        # Stored under the extension of what the file is, whatever it was called: the
        # download serves it with that type.
        upload.name = f"revenue.{EXTENSION_LABELS[content_type].lower()}"
        return upload


class HeldMoneyReturnForm(forms.Form):
    """Staff record money held for an offering that they sent back to whoever paid it."""

    amount = forms.CharField(
        label=_("Amount sent back"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    sent_on = forms.DateField(
        label=_("Sent on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(
        label=_("Transfer reference"),
        max_length=60,
        help_text=_("Recording the same reference twice records the money once."),
    )

    def clean_amount(self) -> Decimal:
        amount = parse_amount(self.cleaned_data["amount"])
        if amount <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        return amount


class RevenueSharePaymentForm(forms.Form):
    """Staff record money received for a revenue report's share by another way than a
    transfer quoting its reference (those are recorded by the statement import)."""

    amount = forms.CharField(
        label=_("Amount received"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(
        label=_("Bank entry or receipt reference"),
        max_length=60,
        help_text=_("Recording the same reference twice for a report records the money once."),
    )

    def clean_amount(self) -> Decimal:
        amount = parse_amount(self.cleaned_data["amount"])
        if amount <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        return amount

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean_reference(self) -> str:
        reference = " ".join(self.cleaned_data["reference"].split())
        if not reference:
            raise forms.ValidationError(_("Enter the reference of the money received."))
        return reference
