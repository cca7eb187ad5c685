"""Statements as investors and the public meet them: the investor's list and request form,
one statement's page and its PDF, and the public page where anyone holding a verification
code checks who a statement is for and whether a file is the one issued."""

from __future__ import annotations

import datetime
import hmac

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.uploads import download_response, validate_upload

from .services import new_pledge_key
from .statements import (
    Statement,
    StatementRefused,
    month_period,
    normalize_code,
    quarter_period,
    sha256_of,
    statement_for_code,
    statement_request,
)

#: Months and quarters offered in the request form, most recent first.
MONTHS_OFFERED = 12
QUARTERS_OFFERED = 8
#: Statements listed on the page; older ones stay stored.
LIST_LIMIT = 50


def _recent_months(today: datetime.date, count: int) -> list[datetime.date]:
    months, current = [], today.replace(day=1)
    for _i in range(count):
        months.append(current)
        current = (current - datetime.timedelta(days=1)).replace(day=1)
    return months


class StatementRequestForm(forms.Form):
    # Offered as a list of recent months and quarters, but any well-formed month or quarter
    # is accepted: a link or a bookmark may name an older one.
    period = forms.CharField(label=_("Period"), max_length=20, widget=forms.Select)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        months = [
            (f"month:{m:%Y-%m}", date_format(m, "F Y"))
            for m in _recent_months(today, MONTHS_OFFERED)
        ]
        quarters = []
        year, quarter = today.year, (today.month - 1) // 3 + 1
        for _i in range(QUARTERS_OFFERED):
            quarters.append(
                (
                    f"quarter:{year}-{quarter}",
                    _("Quarter %(quarter)s of %(year)s") % {"quarter": quarter, "year": year},
                )
            )
            year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        self.fields["period"].widget.choices = [
            (_("Months"), months),
            (_("Quarters"), quarters),
            ("custom", _("Other dates (fill in from and to)")),
        ]

    def clean(self):
        data = super().clean()
        period = data.get("period") or ""
        kind, _sep, value = period.partition(":")
        try:
            if kind == Statement.PeriodKind.MONTH:
                year, month = (int(part) for part in value.split("-"))
                data["start_date"], data["end_date"] = month_period(year, month)
            elif kind == Statement.PeriodKind.QUARTER:
                year, quarter = (int(part) for part in value.split("-"))
                data["start_date"], data["end_date"] = quarter_period(year, quarter)
            elif kind == Statement.PeriodKind.CUSTOM:
                if not (data.get("start") and data.get("end")):
                    raise ValidationError(_("Fill in both dates of the period."))
                data["start_date"], data["end_date"] = data["start"], data["end"]
            else:
                raise ValueError(period)
        except ValueError:
            raise ValidationError(_("Choose a period from the list.")) from None
        data["period_kind"] = kind
        return data


class StatementCheckForm(forms.Form):
    file = forms.FileField(label=_("Statement PDF"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload(upload, allowed={"application/pdf"})
        return upload


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def statement_list(request):
    today = timezone.localdate()
    if request.method == "POST":
        form = StatementRequestForm(request.POST, today=today)
        if form.is_valid():
            data = form.cleaned_data
            try:
                statement = statement_request(
                    investor=request.user,
                    period_kind=data["period_kind"],
                    start=data["start_date"],
                    end=data["end_date"],
                    language=data["language"],
                    request_key=data["key"],
                )
            except StatementRefused as error:
                form.add_error(None, str(error))
            else:
                return redirect("statements:detail", statement.pk)
    else:
        form = StatementRequestForm(
            today=today,
            initial={
                "language": request.user.preferred_language,
                "period": f"month:{_recent_months(today, 2)[-1]:%Y-%m}",
                "key": new_pledge_key(),
            },
        )
    statements = list(
        Statement.objects.filter(investor=request.user).prefetch_related("totals")[:LIST_LIMIT]
    )
    return render(
        request,
        "finance/statements/list.html",
        {
            "form": form,
            "statements": statements,
            "preparing": any(s.is_queued for s in statements),
        },
    )


def _own_statement(request, pk: int, **filters) -> Statement:
    # Another investor's statement does not exist, as far as anyone else can tell.
    return get_object_or_404(Statement, pk=pk, investor=request.user, **filters)


@login_required
def statement_detail(request, pk: int):
    statement = _own_statement(request, pk)
    return render(
        request,
        "finance/statements/detail.html",
        {"statement": statement, "retry_key": new_pledge_key()},
    )


@login_required
def statement_download(request, pk: int):
    statement = _own_statement(request, pk, status=Statement.Status.READY)
    return download_response(
        statement.pdf, filename=statement.filename, content_type="application/pdf"
    )


# --- Public verification --------------------------------------------------------------------


def _public(response):
    # Codes are printed on private documents: the pages they open are not for search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def verify_lookup(request):
    code = normalize_code(request.GET.get("code", ""))
    if code:
        return redirect("statements:verify", code)
    return _public(render(request, "finance/statements/verify_lookup.html"))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request, code: str):
    statement = statement_for_code(code)
    if statement is None:
        raise Http404
    if code != statement.verification_code:
        return redirect("statements:verify", statement.verification_code)
    result = digest = None
    too_large = False
    status = 200
    form = StatementCheckForm()
    if request.method == "POST":
        # Refuse an oversized body before Django reads it to disk.
        limit = settings.PUENTE_MAX_DOCUMENT_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
            too_large = True
            status = 413
        else:
            form = StatementCheckForm(request.POST, request.FILES)
            if form.is_valid():
                digest = sha256_of(form.cleaned_data["file"])
                result = "match" if hmac.compare_digest(digest, statement.sha256) else "mismatch"
            else:
                status = 400
    return _public(
        render(
            request,
            "finance/statements/verify.html",
            {
                "statement": statement,
                "form": form,
                "result": result,
                "digest": digest,
                "too_large": too_large,
                "limit": settings.PUENTE_MAX_DOCUMENT_BYTES,
            },
            status=status,
        )
    )
