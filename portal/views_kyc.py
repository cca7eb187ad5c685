"""The investor's side of identity verification: upload documents, ask for a
verification level, see where the request stands; and the download of a
document, for its owner and for reviewers only."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .kyc import (
    IDENTITY_DOCUMENT_TYPES,
    TIER_RANK,
    IdentityDocument,
    VerificationError,
    identity_document_create,
    verification_request_create,
)
from .middleware import back_office
from .models import VerificationTier
from .uploads import download_response, validate_upload


class IdentityDocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=IdentityDocument.Kind.choices)
    file = forms.FileField(label=_("File"), help_text=_("PDF, JPEG, PNG or WebP up to 10 MB."))

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            try:
                data["content_type"] = validate_upload(upload, allowed=set(IDENTITY_DOCUMENT_TYPES))
            except ValidationError as error:
                self.add_error("file", error)
        return data


class VerificationRequestForm(forms.Form):
    requested_tier = forms.ChoiceField(label=_("Verification level"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        current = TIER_RANK.get(user.verification_tier, 0)
        self.fields["requested_tier"].choices = [
            (value, label)
            for value, label in VerificationTier.choices
            if TIER_RANK[value] > current
        ]


def _limit_rows():
    limits = settings.PUENTE_INVESTMENT_LIMITS_USD
    return [
        {"tier": value, "label": label, "limit": limits.get(value)}
        for value, label in VerificationTier.choices
    ]


def _render_page(request, *, document_form=None, request_form=None, status=200):
    user = request.user
    requests = list(user.verification_requests.select_related("reviewer")[:10])
    pending = next((r for r in requests if r.is_pending), None)
    request_form = request_form or VerificationRequestForm(user=user)
    return render(
        request,
        "portal/kyc/verification.html",
        {
            "documents": user.identity_documents.all(),
            "requests": requests,
            "pending": pending,
            "document_form": document_form or IdentityDocumentForm(),
            "request_form": request_form,
            "can_request": pending is None and bool(request_form.fields["requested_tier"].choices),
            "limits": _limit_rows(),
        },
        status=status,
    )


@login_required
def verification(request):
    return _render_page(request)


@login_required
@require_POST
def verification_document_upload(request):
    form = IdentityDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("The document was not saved; please see below."))
        return _render_page(request, document_form=form, status=400)
    try:
        identity_document_create(
            user=request.user,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            content_type=form.cleaned_data["content_type"],
        )
    except VerificationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your document is uploaded. Only reviewers can see it."))
    return redirect("portal:verification")


@login_required
@require_POST
def verification_request(request):
    form = VerificationRequestForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_page(request, request_form=form, status=400)
    try:
        verification_request_create(
            user=request.user, requested_tier=form.cleaned_data["requested_tier"]
        )
    except VerificationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Your request is sent. A reviewer will check your documents; you will hear from us."),
        )
    return redirect("portal:verification")


# Reviewers open identity documents from Wagtail's admin: like it, this
# download needs two-factor authentication for back-office roles.
@back_office
@login_required
def verification_document_download(request, pk: int):
    document = get_object_or_404(IdentityDocument, pk=pk)
    # Whether a document exists is nobody's business but its owner's and reviewers'.
    if not document.can_be_read_by(request.user):
        raise Http404
    extension = IdentityDocument.EXTENSIONS.get(document.content_type, "bin")
    return download_response(
        document.file,
        filename=f"{document.kind}-{document.pk}.{extension}",
        content_type=document.content_type,
    )
