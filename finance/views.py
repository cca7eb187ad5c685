"""Pledging and paying, as the investor meets them: choose an amount, see the
fee and what happens next, confirm, pay; follow and cancel pledges."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.amounts import percent_text
from portal.prepared import Prepared
from projects.models import Project

from . import knowledge, plans, services
from .forms import KnowledgeTestForm, PledgeForm
from .forms_bonds import COUPON_FREQUENCIES
from .money import Money
from .offerings import Offering, Pledge
from .payments import PaymentError, provider_for


def busy_response(request) -> HttpResponse:
    """Answer a lock timeout with 503 and Retry-After: never a 500, never an oversell."""
    body = render_to_string("finance/busy.html", request=request)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "5"
    return response


# Written as SQL once per process (portal/prepared.py): every pledge reads it.
_OPEN_OFFERING = Prepared(
    lambda pk: (
        Offering.objects.exclude(status=Offering.Status.DRAFT)
        .filter(Q(project__isnull=True) | Q(project__status__in=Project.PUBLIC_STATUSES), pk=pk)
        # One row: no ORDER BY, as get_object_or_404() wrote it.
        .order_by()
    ),
    int,
)


def pledgeable_offering_or_404(pk: int) -> Offering:
    """The offering, unless it is a draft or its project is not public (as
    `Project.is_public` says): both are answered 404, in one query that loads
    only the offering's own row (the pledge pages show nothing of the project).
    An id no key can hold (a form may post any number) is not there either."""
    if not 0 < pk < 2**63:
        raise Http404("No Offering matches the given query.")
    found = _OPEN_OFFERING(pk)
    if not found:
        raise Http404("No Offering matches the given query.")
    return found[0]


def offering_terms(offering: Offering) -> list[tuple[str, str]]:
    """The instrument's terms an investor reads before pledging, as (label,
    value) pairs in the page's language: a bond's issuer, face value, coupon
    and its frequency, term; a loan's rate, term and schedule; a revenue
    share's share and cap. Labels are the fields' own."""
    field = Offering._meta.get_field

    def label(name: str) -> str:
        return capfirst(field(name).verbose_name)

    terms = []
    if offering.issuer_id:
        terms.append((label("issuer"), offering.issuer.name))
    if offering.face_value:
        terms.append(
            (label("face_value"), Money(offering.face_value, offering.currency).localized())
        )
    if offering.annual_rate is not None:
        terms.append((label("annual_rate"), percent_text(offering.annual_rate)))
    if offering.periods_per_year:
        frequency = dict(COUPON_FREQUENCIES).get(offering.periods_per_year)
        terms.append((label("periods_per_year"), frequency or str(offering.periods_per_year)))
    if offering.tenor_months:
        terms.append((label("tenor_months"), str(offering.tenor_months)))
    if offering.schedule_type:
        terms.append((label("schedule_type"), offering.get_schedule_type_display()))
    if offering.revenue_share is not None:
        terms.append((label("revenue_share"), percent_text(offering.revenue_share)))
    if offering.cap_multiple is not None:
        terms.append(
            (label("cap_multiple"), f"{number_format(offering.cap_multiple.normalize())}×")
        )
    terms.append((label("closes_at"), date_format(localtime(offering.closes_at), "DATE_FORMAT")))
    return terms


@login_required
def pledge_start(request, pk: int):
    offering = pledgeable_offering_or_404(pk)
    if offering.needs_knowledge_test and not hasattr(request.user, "knowledge_test"):
        messages.info(
            request,
            _("Before your first loan, revenue share or bond, take this short knowledge test."),
        )
        return redirect(f"{reverse('finance:knowledge_test')}?next={request.path}")
    data = request.POST if request.method == "POST" else None
    form = PledgeForm(data, offering=offering, initial={"key": services.new_pledge_key()})
    context = {
        "offering": offering,
        "form": form,
        "stripe_js": settings.STRIPE_JS_URL,
        "terms": lambda: offering_terms(offering),  # only pages that show them pay for them
    }
    if request.method == "POST" and form.is_valid():
        amount = form.cleaned_data["amount"]
        method = form.cleaned_data["method"]
        if "confirm" not in request.POST:
            try:
                services.pledge_check(offering=offering, investor=request.user, amount=amount)
            except services.PledgeRefused as error:
                form.add_error("amount", str(error))
                return render(request, "finance/pledge.html", context, status=400)
            fee = services.pledge_fee(offering, amount, method)
            context.update(
                review=True,
                amount=Money(amount, offering.currency),
                fee=Money(fee, offering.currency),
                total=Money(amount + fee, offering.currency),
                method=method,
                method_label=dict(Pledge.Method.choices)[method],
                monthly=method in plans.METHODS,
                days=plans.DAYS,
                today_day=min(timezone.localdate().day, plans.DAYS[-1]),
            )
            return render(request, "finance/pledge.html", context)
        monthly_day = None
        if request.POST.get("monthly"):
            # Checked before the pledge is made: a wrong day makes no pledge.
            monthly_day = _plan_day(request.POST.get("day"))
            if monthly_day is None or method not in plans.METHODS:
                form.add_error(None, _("Choose a day between 1 and 28 for your monthly plan."))
                return render(request, "finance/pledge.html", context, status=400)
        try:
            pledge = services.pledge_create(
                offering=offering,
                investor=request.user,
                amount=amount,
                method=method,
                idempotency_key=form.cleaned_data["key"],
            )
        except services.OfferingBusy:
            return busy_response(request)
        except services.KnowledgeTestRequired:
            return redirect(f"{reverse('finance:knowledge_test')}?next={request.path}")
        except services.PledgeRefused as error:
            form.add_error("amount", str(error))
        else:
            if monthly_day is not None:
                plan = plans.plan_start(pledge=pledge, day=monthly_day)
                messages.success(
                    request,
                    _(
                        "This pledge will be made again on day %(day)s of every month. "
                        "You can stop it at any time from My pledges."
                    )
                    % {"day": plan.day},
                )
            return redirect("finance:pledge", pledge.pk)
    return render(request, "finance/pledge.html", context, status=400 if form.errors else 200)


def _plan_day(value: str | None) -> int | None:
    try:
        day = int(value or "")
    except ValueError:
        return None
    return day if day in plans.DAYS else None


def _own_pledge(request, pk: int) -> Pledge:
    pledge = get_object_or_404(
        Pledge.objects.select_related("offering", "offering__project"), pk=pk
    )
    # Another person's pledge does not exist, as far as this person can tell.
    if pledge.investor_id != request.user.pk:
        raise Http404
    return pledge


@login_required
def pledge_detail(request, pk: int):
    pledge = _own_pledge(request, pk)
    payment = None
    error = ""
    if pledge.status == Pledge.Status.PENDING:
        try:
            payment = provider_for(_provider_name(pledge)).start(pledge=pledge)
        except PaymentError as failure:
            error = failure.user_message or _(
                "The payment service is not answering. Please try again in a few minutes."
            )
    return render(
        request,
        "finance/pledge_detail.html",
        {
            "pledge": pledge,
            "plan": plans.plan_of(pledge),
            "payment": payment,
            "payment_error": error,
            "stripe_js": settings.STRIPE_JS_URL,
            "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
            "bank": settings.PUENTE_BANK_ACCOUNT,
            "return_url": request.build_absolute_uri(reverse("finance:pledge", args=[pledge.pk])),
        },
    )


def _provider_name(pledge: Pledge) -> str:
    return {"card": "stripe", "bank_transfer": "bank_transfer", "remittance": "remittance"}[
        pledge.method
    ]


@login_required
@require_POST
def pledge_refresh(request, pk: int):
    """After the card form: re-read the payment from the provider (the webhook
    may not have arrived yet) and show the pledge."""
    pledge = _own_pledge(request, pk)
    for payment in pledge.payments.all():
        try:
            provider_for(payment.provider).sync(payment=payment)
        except PaymentError:
            messages.warning(
                request,
                _(
                    "We could not confirm the payment yet; this page will "
                    "show it as soon as the bank confirms."
                ),
            )
    return redirect("finance:pledge", pledge.pk)


@login_required
@require_http_methods(["GET", "POST"])
def pledge_cancel(request, pk: int):
    """GET asks to confirm, saying what cancelling does (and, for a paid
    pledge, where the refund goes); POST cancels."""
    pledge = _own_pledge(request, pk)
    if request.method == "GET":
        if pledge.status not in Pledge.ACTIVE:
            return redirect("finance:pledge", pledge.pk)
        plan = plans.plan_of(pledge)
        return render(
            request,
            "finance/pledge_cancel.html",
            {
                "pledge": pledge,
                "stops_plan": plan is not None
                and plan.is_active
                and plan.first_pledge_id == pledge.pk,
            },
        )
    try:
        pledge = services.pledge_cancel(
            pledge=pledge, by=request.user, to_wallet=request.POST.get("refund_to") == "wallet"
        )
    except services.OfferingBusy:
        return busy_response(request)
    except services.PaymentGoesAhead as error:
        messages.warning(request, str(error))
    except (services.PledgeRefused, PaymentError) as error:
        messages.error(request, getattr(error, "user_message", "") or str(error))
    else:
        if pledge.status == Pledge.Status.REFUNDED:
            messages.success(
                request, _("Your pledge is cancelled. What you paid is on its way back to you.")
            )
        else:
            messages.success(request, _("Your pledge is cancelled. Nothing was charged."))
        plan = plans.plan_of(pledge)
        if plan is not None and plan.first_pledge_id == pledge.pk and not plan.is_active:
            messages.info(request, _("The monthly plan this pledge started is stopped too."))
    return redirect("finance:pledge", pledge.pk)


@login_required
def my_pledges(request):
    pledges = (
        Pledge.objects.filter(investor=request.user)
        .select_related("offering", "offering__project")
        .order_by("-created_at")
    )
    monthly = plans.PledgePlan.objects.filter(investor=request.user).select_related("offering")
    return render(request, "finance/my_pledges.html", {"pledges": pledges, "plans": list(monthly)})


@login_required
@require_POST
def plan_stop(request, pk: int):
    # Another person's plan does not exist, as far as this person can tell.
    plan = get_object_or_404(plans.PledgePlan, pk=pk, investor=request.user)
    plans.plan_stop(plan=plan, by=request.user)
    messages.success(request, _("Your monthly plan is stopped. Pledges already made stay."))
    return redirect("finance:my_pledges")


@login_required
def knowledge_test(request):
    language = translation.get_language() or "en"
    questions = knowledge.questions(language)
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    form = KnowledgeTestForm(request.POST or None, questions=questions, order_for=request.user.pk)
    wrong = []
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        right, total, wrong = knowledge.grade(answers, language)
        for question in wrong:
            # Why the chosen answer is not right: the quiz's own explanation.
            form.fields[question.key].feedback = question.feedback[answers[question.key]]
        if knowledge.record_pass(investor=request.user, score=right, total=total):
            messages.success(request, _("You passed the knowledge test."))
            return redirect(next_url or "finance:my_pledges")
        messages.error(
            request,
            _("%(right)d of %(total)d right. Read the explanations and try again.")
            % {"right": right, "total": total},
        )
    return render(
        request,
        "finance/knowledge_test.html",
        {
            "form": form,
            "wrong": {q.key for q in wrong},
            "questions": questions,
            "next": next_url,
            "passed": hasattr(request.user, "knowledge_test"),
        },
    )
