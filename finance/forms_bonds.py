"""The terms of a diaspora bond series as the issuing local government enters them.

The model's own validation (`Offering.clean`) decides whether the terms make a bond; the
form adds only what concerns the issuer's page: which of the person's governments issues,
which of its own opportunities the bond funds, and that an issue is a whole number of bonds
sold before a date still to come.

The coupon rate is entered in percent (4.5 for 4.5%) and stored as the fraction the model
keeps (0.045)."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.models import Organization
from projects.models import Project

from .forms import parse_amount
from .money import Money, minor_unit_exponent
from .offerings import Instrument, Offering

COUPON_FREQUENCIES = [
    ("", "---------"),
    (1, _("Once a year")),
    (2, _("Twice a year")),
    (4, _("Quarterly")),
    (12, _("Monthly")),
]

#: Opportunities a bond may still be tied to.
PROJECT_STATUSES_CLOSED = (Project.Status.REJECTED, Project.Status.CLOSED)

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

#: Amounts that must buy a whole number of bonds.
WHOLE_BOND_AMOUNTS = ("min_ticket", "max_ticket", "target", "hard_cap")

RATE_IN_PERCENT = _("Give the coupon rate in percent, a number from 0 to 100, such as 4.5.")


class PercentRateField(forms.DecimalField):
    """A yearly rate typed in percent, cleaned to the fraction the model stores. Three
    decimals in percent are the model's five as a fraction: nothing is rounded."""

    def __init__(self, **kwargs):
        super().__init__(
            min_value=Decimal("0"),
            max_value=Decimal("100"),
            max_digits=6,
            decimal_places=3,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            error_messages={
                "required": RATE_IN_PERCENT,
                "invalid": RATE_IN_PERCENT,
                "min_value": RATE_IN_PERCENT,
                "max_value": RATE_IN_PERCENT,
            },
            **kwargs,
        )

    def to_python(self, value):
        """Read as amounts are (`parse_amount`: "4,5" in French, Arabic digits), with or
        without a percent sign."""
        if value in self.empty_values:
            return None
        text = str(value).strip().removesuffix("%").removesuffix("\u066a").strip()
        try:
            return parse_amount(text)
        except ValidationError as error:
            if error.code == "ambiguous":
                raise
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value):
        """The stored fraction, shown in percent; what the person typed, as typed."""
        if isinstance(value, Decimal):
            return format((value * 100).normalize(), "f")
        return value

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        try:
            typed = self.clean(data)
        except ValidationError:
            return True
        return initial != typed

    def clean(self, value):
        percent = super().clean(value)
        # 0.05 typed out of habit would be a coupon of 0.05%, a hundredth of the 5% meant.
        if percent is not None and 0 < percent < 1:
            raise ValidationError(
                _(
                    "The rate is in percent: 5 means 5%, not 0.05. A rate under 1 percent is "
                    "not accepted, so that 0.05 is never read as 5%."
                ),
                code="below_one_percent",
            )
        return percent / 100 if percent is not None else None


class BondSeriesForm(forms.ModelForm):
    """A draft bond series: created and edited by members of the issuing government, opened
    by staff once reviewed."""

    class Meta:
        model = Offering
        fields = [
            "issuer",
            "project",
            "title",
            "currency",
            "face_value",
            "annual_rate",
            "periods_per_year",
            "day_count",
            "tenor_months",
            "target",
            "hard_cap",
            "funding_rule",
            "min_ticket",
            "max_ticket",
            "opens_at",
            "closes_at",
        ]
        labels = {
            "issuer": _("Issued by"),
            "project": _("Opportunity it funds"),
            "face_value": _("Face value of one bond (minimum denomination)"),
            "periods_per_year": _("Coupons"),
            "tenor_months": _("Tenor in months"),
            "target": _("Issue size: target"),
            "hard_cap": _("Issue size: hard cap"),
            "funding_rule": _("If the target is missed"),
            "min_ticket": _("Smallest purchase (an amount)"),
            "max_ticket": _("Largest purchase per pledge (an amount)"),
            "opens_at": _("Sale opens"),
            "closes_at": _("Sale closes"),
        }
        help_texts = {
            "project": _("Optional: one of your government's own opportunities."),
            "day_count": _("How the coupon of each period is counted."),
            "tenor_months": _("From the issue date (when the money is paid out) to maturity."),
            "target": _(
                "An amount that buys whole bonds: a multiple of the face value. With bonds "
                "of 100, 50000 is 500 bonds."
            ),
            "hard_cap": _(
                "Optional; an amount that buys whole bonds (a multiple of the face value), "
                "no less than the target."
            ),
            "min_ticket": _(
                "An amount that buys whole bonds: a multiple of the face value. With bonds "
                "of 100, 100 buys one bond and 500 buys five."
            ),
            "max_ticket": _(
                "Optional; an amount that buys whole bonds: a multiple of the face value."
            ),
        }
        widgets = {
            "periods_per_year": forms.Select(choices=COUPON_FREQUENCIES),
            "opens_at": DATETIME_INPUT,
            "closes_at": DATETIME_INPUT,
        }

    annual_rate = PercentRateField(
        label=_("Coupon rate a year, in percent"),
        help_text=_("For example 4.5 for a coupon of 4.5%."),
    )

    def __init__(self, *args, governments: list[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.instrument = Instrument.BOND
        issuer = self.fields["issuer"]
        issuer.queryset = Organization.objects.filter(
            pk__in=[g.pk for g in governments], kind=Organization.Kind.LOCAL_GOVERNMENT
        ).order_by("name")
        issuer.empty_label = None
        if self.instance.pk:
            # The issuer of a series never changes; a disabled field keeps the stored value
            # whatever is posted.
            issuer.disabled = True
        else:
            issuer.initial = governments[0].pk if governments else None
        project = self.fields["project"]
        project.queryset = (
            Project.objects.filter(
                organization__in=[g.pk for g in governments], origin=Project.Origin.MUNICIPAL
            )
            .exclude(status__in=PROJECT_STATUSES_CLOSED)
            .order_by("title")
        )
        project.empty_label = _("None")

    def clean_closes_at(self):
        closes_at = self.cleaned_data["closes_at"]
        if closes_at is not None and closes_at <= timezone.now():
            raise forms.ValidationError(_("The sale must close at a date still to come."))
        return closes_at

    def clean(self):
        data = super().clean()
        issuer = data.get("issuer")
        project = data.get("project")
        if project is not None and issuer is not None and project.organization_id != issuer.pk:
            self.add_error("project", _("Choose an opportunity of the issuing government."))
        self._check_whole_bonds(data)
        return data

    def _check_whole_bonds(self, data) -> None:
        """The model refuses an amount between two whole bonds too; here the message says
        that an amount of money is wanted and which multiples would do."""
        face, currency = data.get("face_value"), data.get("currency")
        if not currency:
            return
        # Amounts finer than the currency's minor unit get the model's message about decimals.
        minor_unit = Decimal(1).scaleb(-minor_unit_exponent(currency))
        if not face or face <= 0 or face != face.quantize(minor_unit):
            return
        for name in WHOLE_BOND_AMOUNTS:
            amount = data.get(name)
            if amount and amount > 0 and amount == amount.quantize(minor_unit) and amount % face:
                bonds = max(int((amount / face).to_integral_value(rounding=ROUND_CEILING)), 1)
                self.add_error(
                    name,
                    ngettext(
                        "Give an amount of money that buys whole bonds: a multiple of the face "
                        "value, %(face)s. For example %(example)s buys %(bonds)s bond.",
                        "Give an amount of money that buys whole bonds: a multiple of the face "
                        "value, %(face)s. For example %(example)s buys %(bonds)s bonds.",
                        bonds,
                    )
                    % {
                        "face": Money(face, currency).localized(),
                        "example": Money(face * bonds, currency).localized(),
                        "bonds": bonds,
                    },
                )

    def _update_errors(self, errors):
        """The model checks the instance as the form left it, where a field the form
        refused keeps its earlier value: its message about that field would repeat, in the
        model's terms (a rate as a fraction), what the form already said."""
        if hasattr(errors, "error_dict"):
            remaining = {
                field: messages
                for field, messages in errors.error_dict.items()
                if field not in self._errors
            }
            if not remaining:
                return
            errors = ValidationError(remaining)
        super()._update_errors(errors)
