"""The terms of a diaspora bond series as the issuing local government enters them.

The model's own validation (`Offering.clean`) decides whether the terms make a bond; the
form adds only what concerns the issuer's page: which of the person's governments issues,
which of its own opportunities the bond funds, and that an issue is a whole number of bonds
sold before a date still to come."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Organization
from projects.models import Project

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
            "annual_rate": _("Coupon rate a year"),
            "periods_per_year": _("Coupons"),
            "tenor_months": _("Tenor in months"),
            "target": _("Issue size: target"),
            "hard_cap": _("Issue size: hard cap"),
            "funding_rule": _("If the target is missed"),
            "min_ticket": _("Smallest purchase"),
            "max_ticket": _("Largest purchase per pledge"),
            "opens_at": _("Sale opens"),
            "closes_at": _("Sale closes"),
        }
        help_texts = {
            "project": _("Optional: one of your government's own opportunities."),
            "annual_rate": _("As a fraction: 0.05 is 5%."),
            "day_count": _("How the coupon of each period is counted."),
            "tenor_months": _("From the issue date (when the money is paid out) to maturity."),
            "target": _("A whole number of bonds."),
            "hard_cap": _("Optional; a whole number of bonds, no less than the target."),
            "min_ticket": _("A whole number of bonds."),
            "max_ticket": _("Optional; a whole number of bonds."),
        }
        widgets = {
            "periods_per_year": forms.Select(choices=COUPON_FREQUENCIES),
            "opens_at": DATETIME_INPUT,
            "closes_at": DATETIME_INPUT,
        }

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
        return data
