"""Local governments set up their own diaspora bond series: a draft with the bond's terms,
edited until staff open it for pledges (the admin's "open" action, services.offering_open),
then shown read-only, with the issuer's page of what is due and when (returns:bond).
Issuing a series commits the government's money: only its administrators set one up or
change its terms; its other members see its series."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.middleware import back_office
from portal.models import AuditEntry, Organization
from portal.notifications import notify
from portal.permissions import (
    NotAllowed,
    Role,
    can_manage_organization,
    governments_administered_by,
    governments_of,
    require_role,
    reviewers,
)

from .exceptions import FinanceError
from .forms_bonds import COUPON_FREQUENCIES, BondSeriesForm
from .offerings import Instrument, Offering
from .services import new_pledge_key


class SeriesNoLongerDraft(FinanceError):
    """Staff opened the series while its terms were being edited."""


def bond_series_of(user):
    """The bond series issued by the user's local governments."""
    return Offering.objects.filter(
        instrument=Instrument.BOND, issuer__in=[g.pk for g in governments_of(user)]
    )


def _own_series(request, pk: int) -> Offering:
    """The series, if one of the user's governments issues it; another government's series
    does not exist as far as this person can tell."""
    return get_object_or_404(
        bond_series_of(request.user).select_related("issuer", "project", "bond_issue"), pk=pk
    )


def _administered_or_refuse(user) -> list[Organization]:
    """The governments whose series the user may set up or change; refuses (403, saying
    why) a member who administers none."""
    governments = governments_administered_by(user)
    if not governments:
        raise NotAllowed(
            gettext("Only an administrator of your government can set up or change its bonds.")
        )
    return governments


def series_facts(offering: Offering) -> dict:
    """What the pages show of a series beside its fields: the rate in percent, the coupon
    frequency in words, and sizes counted in bonds."""
    face = offering.face_value

    def units(amount):
        return int(amount // face) if face and amount is not None else None

    rate = offering.annual_rate
    percent = (rate * 100).normalize() if rate is not None else None
    return {
        "offering": offering,
        "issue": getattr(offering, "bond_issue", None),
        # As many decimals as the rate has: 4.5%, 4.125%, 5%.
        "rate_percent": percent,
        "rate_places": max(0, -percent.as_tuple().exponent) if percent is not None else 0,
        "frequency": dict(COUPON_FREQUENCIES).get(offering.periods_per_year, ""),
        "units_target": units(offering.target),
        "units_cap": units(offering.hard_cap),
        "units_reserved": units(offering.reserved),
    }


def bond_series_save(*, form: BondSeriesForm, by) -> Offering:
    """Save a new draft series, or the new terms of a draft; raises SeriesNoLongerDraft if
    staff opened it in the meantime.

    The row is locked and its status read again before an edit is written: the form was
    filled from a copy that may be older than the admin's "open", and saving it whole
    would put an open series back to draft."""
    with transaction.atomic():
        if form.instance.pk is None:
            offering = form.save(commit=False)
            offering.status = Offering.Status.DRAFT
            offering.save()
            AuditEntry.record(
                actor=by, action="offering.created", obj=offering, to_state=offering.status
            )
            notify(
                reviewers(),  # who may open an offering from the admin
                verb="offering.submitted",
                message=_("%(issuer)s submitted a bond series for review: %(title)s"),
                params={"issuer": offering.issuer.name, "title": offering.title},
                url=reverse("finance_offering_actions", args=[offering.pk]),
            )
            return offering
        locked = Offering.objects.select_for_update().get(pk=form.instance.pk)
        if locked.status != Offering.Status.DRAFT:
            raise SeriesNoLongerDraft(
                _("Staff have opened this series for pledges: its terms can no longer change.")
            )
        changed = [name for name in form.changed_data if name in form.Meta.fields]
        offering = form.save(commit=False)
        if changed:
            offering.save(update_fields=changed)
            AuditEntry.record(
                actor=by,
                action="offering.terms_changed",
                obj=offering,
                from_state=locked.status,
                to_state=locked.status,
                data={"fields": changed},
            )
        return offering


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def bond_series_list(request):
    """The bond series of this person's governments, the newest first."""
    series = list(
        bond_series_of(request.user)
        .select_related("issuer", "project", "bond_issue")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "finance/bonds/list.html",
        {
            "rows": [series_facts(offering) for offering in series],
            "draft": Offering.Status.DRAFT,
            "administered": {gov.pk for gov in governments_administered_by(request.user)},
        },
    )


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def bond_series_new(request):
    governments = _administered_or_refuse(request.user)
    form = BondSeriesForm(request.POST or None, governments=governments)
    if request.method == "POST" and form.is_valid():
        # The key issued with the form: a double click or a resent form saves one series.
        key = request.POST.get("key", "")[:64]
        if key and not cache.add(f"bond-series-new:{request.user.pk}:{key}", True, 86400):
            messages.info(request, _("This series was already submitted."))
            return redirect("finance:bond_series")
        offering = bond_series_save(form=form, by=request.user)
        messages.success(
            request,
            _(
                "The bond series is saved and submitted for review. Staff check the terms and "
                "open it for pledges; until then you can still change them."
            ),
        )
        return redirect("finance:bond_series_detail", offering.pk)
    return render(
        request,
        "finance/bonds/form.html",
        {"form": form, "offering": None, "key": request.POST.get("key") or new_pledge_key()},
        status=400 if form.errors else 200,
    )


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def bond_series_edit(request, pk: int):
    offering = _own_series(request, pk)
    if not can_manage_organization(request.user, offering.issuer):
        raise NotAllowed(
            gettext("Only an administrator of %(issuer)s can change its bonds.")
            % {"issuer": offering.issuer.name}
        )
    if offering.status != Offering.Status.DRAFT:
        messages.info(
            request, _("This series is open for pledges: its terms can no longer change.")
        )
        return redirect("finance:bond_series_detail", offering.pk)
    form = BondSeriesForm(
        request.POST or None,
        instance=offering,
        governments=governments_administered_by(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            bond_series_save(form=form, by=request.user)
        except SeriesNoLongerDraft as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("The new terms are saved; the series awaits review."))
        return redirect("finance:bond_series_detail", offering.pk)
    return render(
        request,
        "finance/bonds/form.html",
        {"form": form, "offering": offering},
        status=400 if form.errors else 200,
    )


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def bond_series_detail(request, pk: int):
    """The series' terms, read-only; what is due and when lives on the issuer's bond page."""
    offering = _own_series(request, pk)
    return render(
        request,
        "finance/bonds/detail.html",
        {
            **series_facts(offering),
            "is_draft": offering.status == Offering.Status.DRAFT,
            "may_change": can_manage_organization(request.user, offering.issuer),
        },
    )
