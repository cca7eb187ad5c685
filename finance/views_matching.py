"""Local governments set up their own matching pools (3x1 style) for
offerings in their territory, or for the bonds they issue, funded by their
organization. Only a government's administrators commit its funds; its other
members see the offerings and what their government committed. Staff do the
same from the admin; both go through services.matching_pool_create."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.middleware import back_office
from portal.models import Organization
from portal.permissions import (
    NotAllowed,
    Role,
    governments_administered_by,
    governments_of,
    require_role,
)

from . import services
from .offerings import Instrument, MatchingPool, Offering

#: Offerings a sponsor can still commit to.
OPEN_FOR_SPONSORS = (Offering.Status.DRAFT, Offering.Status.OPEN)


def _territories_of(governments: list[Organization]) -> dict[int, set[int]]:
    """Each government's territory and everything inside it, by government pk."""
    return {gov.pk: gov.territory.descendant_ids() for gov in governments if gov.territory_id}


def _sponsors_for(
    offering: Offering, governments: list[Organization], territories: dict[int, set[int]]
) -> list[Organization]:
    """Those of `governments` that may sponsor `offering`: the project lies in
    their territory (`territories`, by `_territories_of`), or they issue the
    offering (a bond)."""
    project_territory = offering.project.territory_id if offering.project_id else None
    return [
        gov
        for gov in governments
        if offering.issuer_id == gov.pk
        or (project_territory is not None and project_territory in territories.get(gov.pk, ()))
    ]


def offerings_for_sponsor(governments: list[Organization], territories: dict[int, set[int]]):
    """Offerings these local governments may match, draft or open."""
    territory_ids: set[int] = set()
    for ids in territories.values():
        territory_ids |= ids
    return (
        Offering.objects.filter(status__in=OPEN_FOR_SPONSORS)
        .filter(Q(project__territory_id__in=territory_ids) | Q(issuer__in=governments))
        .select_related("project", "issuer")
        .order_by("closes_at", "pk")
    )


class MatchingPoolForm(forms.Form):
    sponsor = forms.ModelChoiceField(
        label=_("Funded by"), queryset=Organization.objects.none(), empty_label=None
    )
    ratio = forms.DecimalField(
        label=_("Match per unit contributed"),
        max_digits=6,
        decimal_places=3,
        min_value=Decimal("0.001"),
        help_text=_("1 adds one for each one given; 0.5 adds half."),
    )
    cap_per_offering = forms.DecimalField(
        label=_("Cap for this offering"), max_digits=18, decimal_places=3, min_value=Decimal("0")
    )
    cap_per_contributor = forms.DecimalField(
        label=_("Cap per contributor"),
        max_digits=18,
        decimal_places=3,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Leave empty for no limit per person."),
    )

    def __init__(self, *args, sponsors: list[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = Organization.objects.filter(
            pk__in=[s.pk for s in sponsors]
        ).order_by("name")
        self.fields["sponsor"].initial = sponsors[0].pk


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def matching_offerings(request):
    """The offerings this government may match, with the pools it funds."""
    governments = governments_of(request.user)
    territories = _territories_of(governments)
    offerings = list(
        offerings_for_sponsor(governments, territories).prefetch_related(
            Prefetch(
                "matching_pools",
                queryset=MatchingPool.objects.filter(sponsor__in=governments).select_related(
                    "sponsor"
                ),
                to_attr="own_pools",
            )
        )
    )
    administered = governments_administered_by(request.user)
    for offering in offerings:
        sponsors = _sponsors_for(offering, administered, territories)
        matching = {pool.sponsor_id for pool in offering.own_pools}
        offering.may_commit = any(sponsor.pk not in matching for sponsor in sponsors)
        offering.all_matching = bool(sponsors) and not offering.may_commit
    return render(
        request,
        "finance/matching/offerings.html",
        {"offerings": offerings, "donation": Instrument.DONATION_MATCHING},
    )


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def matching_pool_new(request, pk: int):
    """Commit this government's funds to match an offering's contributions."""
    offering = get_object_or_404(
        Offering.objects.select_related("project", "issuer"), pk=pk, status__in=OPEN_FOR_SPONSORS
    )
    governments = governments_of(request.user)
    territories = _territories_of(governments)
    if not _sponsors_for(offering, governments, territories):
        # Another territory's offering: not this government's business.
        raise Http404
    sponsors = _sponsors_for(offering, governments_administered_by(request.user), territories)
    if not sponsors:
        raise NotAllowed(gettext("Only an administrator of your government can commit its funds."))
    pools = list(offering.matching_pools.select_related("sponsor"))
    # A sponsor funds one pool per offering: one that already does could only be refused.
    # When every government this person commits for already matches the offering, the page
    # shows their terms and nothing to submit.
    matching = {pool.sponsor_id for pool in pools}
    sponsors = [sponsor for sponsor in sponsors if sponsor.pk not in matching]
    form = MatchingPoolForm(request.POST or None, sponsors=sponsors) if sponsors else None
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            pool = services.matching_pool_create(
                offering=offering,
                sponsor=data["sponsor"],
                ratio=data["ratio"],
                cap_per_offering=data["cap_per_offering"],
                cap_per_contributor=data["cap_per_contributor"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(sponsor)s now matches contributions to %(offering)s.")
                % {"sponsor": pool.sponsor.name, "offering": offering.title},
            )
            return redirect("finance:matching_offerings")
    return render(
        request,
        "finance/matching/pool_form.html",
        {
            "offering": offering,
            "form": form,
            "pools": pools,
        },
        status=400 if (request.method == "POST" if form is None else form.errors) else 200,
    )
