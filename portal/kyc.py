"""Identity verification: an investor uploads identity documents and asks
for a verification level; a reviewer checks the documents and approves
(which raises the person's investment limit) or rejects with a reason.

Loaded from the end of `portal.models`, so the models below are part of the
portal app. Permissions and notifications are imported inside the workflows:
they import `portal.models` themselves, which is still loading when this
module is first read.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, User, VerificationTier
from .uploads import DOCUMENT_TYPES

# The order of the levels: approval never lowers a person's level.
TIER_RANK = {
    VerificationTier.UNVERIFIED: 0,
    VerificationTier.IDENTITY_VERIFIED: 1,
    VerificationTier.ENHANCED: 2,
}

# Identity documents are images or PDFs; videos are not accepted here.
IDENTITY_DOCUMENT_TYPES = frozenset(DOCUMENT_TYPES)


class VerificationError(Exception):
    """A verification workflow refused; `message` is safe to show the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class VerificationPermissionDenied(VerificationError):
    pass


def kyc_storage():
    from django.core.files.storage import storages

    return storages["private"]


def identity_upload_path(instance: IdentityDocument, filename: str) -> str:
    # Random names: a stored identity document's name says nothing and cannot be guessed.
    extension = IdentityDocument.EXTENSIONS.get(instance.content_type, "bin")
    return f"private/identity/{instance.user_id}/{secrets.token_urlsafe(16)}.{extension}"


class IdentityDocument(models.Model):
    """A file a person uploaded to prove who they are or where they live.
    Stored in the private storage (outside MEDIA_ROOT) and served only by a
    permission-checked download view, to its owner and to reviewers."""

    class Kind(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        NATIONAL_ID = "national_id", _("National identity card")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
        PROOF_OF_ADDRESS = "proof_of_address", _("Proof of address")

    IDENTITY_KINDS = (Kind.PASSPORT, Kind.NATIONAL_ID, Kind.RESIDENCE_PERMIT)
    EXTENSIONS = {
        "application/pdf": "pdf",
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
    }

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identity_documents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=identity_upload_path, storage=kyc_storage, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=60)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.user_id})"

    def get_absolute_url(self) -> str:
        return reverse("portal:verification_document", args=[self.pk])

    def can_be_read_by(self, user) -> bool:
        """The owner and reviewers; nobody else learns the document exists."""
        from .permissions import Role, has_role

        if not getattr(user, "is_authenticated", False):
            return False
        return self.user_id == user.pk or has_role(user, Role.REVIEWER)


class VerificationRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=VerificationRequest.Status.PENDING)


class VerificationRequest(models.Model):
    """A person's request to be verified at a level, and the reviewer's decision."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_requests")
    requested_tier = models.CharField(
        _("verification level requested"),
        max_length=20,
        choices=[c for c in VerificationTier.choices if c[0] != VerificationTier.UNVERIFIED],
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    reviewer = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = VerificationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("verification request")
        verbose_name_plural = _("verification requests")
        constraints = [
            # One open request per person: a second would be decided twice.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="one_pending_verification_request_per_user",
            ),
            models.CheckConstraint(
                condition=~Q(requested_tier="unverified"),
                name="verification_request_asks_for_a_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.requested_tier} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


# --- Workflows -------------------------------------------------------------------------------


def identity_document_create(*, user: User, kind: str, upload, content_type: str):
    """Store an uploaded document; `content_type` is what `validate_upload` sniffed."""
    if content_type not in IDENTITY_DOCUMENT_TYPES:
        raise VerificationError(_("This kind of file is not accepted here."))
    document = IdentityDocument(
        user=user,
        kind=kind,
        original_name=(upload.name or "document")[-200:],
        content_type=content_type,
        size=upload.size,
    )
    document.full_clean(exclude=["file"])
    document.file.save(upload.name or "document", upload, save=False)
    document.save()
    AuditEntry.record(
        actor=user,
        action="identity_document.upload",
        obj=document,
        data={"kind": kind, "content_type": content_type, "size": upload.size},
    )
    return document


def verification_request_create(*, user: User, requested_tier: str) -> VerificationRequest:
    """Ask for a level above the current one, with the documents it needs:
    an identity document for any level, and a proof of address as well for
    enhanced verification."""
    if requested_tier not in TIER_RANK or TIER_RANK[requested_tier] == 0:
        raise VerificationError(_("Choose a verification level."))
    if TIER_RANK[requested_tier] <= TIER_RANK.get(user.verification_tier, 0):
        raise VerificationError(_("You already have this verification level or a higher one."))
    kinds = set(user.identity_documents.values_list("kind", flat=True))
    if not kinds & set(IdentityDocument.IDENTITY_KINDS):
        raise VerificationError(
            _("Upload a passport, national identity card or residence permit first.")
        )
    if (
        requested_tier == VerificationTier.ENHANCED
        and IdentityDocument.Kind.PROOF_OF_ADDRESS not in kinds
    ):
        raise VerificationError(_("Enhanced verification also needs a proof of address."))
    with transaction.atomic():
        # Lock the person's row so two clicks cannot open two requests.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if VerificationRequest.objects.pending().filter(user=user).exists():
            raise VerificationError(_("You already have a request waiting for review."))
        request = VerificationRequest(user=user, requested_tier=requested_tier)
        request.full_clean()
        request.save()
        AuditEntry.record(
            actor=user,
            action="verification.request",
            obj=request,
            to_state=request.status,
            data={"requested_tier": requested_tier},
        )
    return request


def _lock_for_decision(request_id: int, by) -> VerificationRequest:
    """The request, locked, once the decider is known to be allowed to decide it."""
    from .permissions import Role, has_role

    if not has_role(by, Role.REVIEWER):
        raise VerificationPermissionDenied(_("Only reviewers decide on verification requests."))
    request = (
        VerificationRequest.objects.select_for_update().select_related("user").get(pk=request_id)
    )
    if request.user_id == by.pk:
        # Four eyes: nobody verifies their own identity.
        raise VerificationPermissionDenied(_("You cannot decide on your own verification request."))
    return request


def _verification_url(user: User) -> str:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        return reverse("portal:verification")


def verification_request_approve(*, request: VerificationRequest, by) -> VerificationRequest:
    """Approve and raise the person's verification level (never lower it).
    Idempotent: approving an approved request changes nothing."""
    from .notifications import notify

    with transaction.atomic():
        request = _lock_for_decision(request.pk, by)
        if request.status == VerificationRequest.Status.APPROVED:
            return request
        if request.status != VerificationRequest.Status.PENDING:
            raise VerificationError(_("This request was already decided."))
        user = User.objects.select_for_update().get(pk=request.user_id)
        old_tier = user.verification_tier
        if TIER_RANK[request.requested_tier] > TIER_RANK.get(old_tier, 0):
            user.verification_tier = request.requested_tier
            user.save(update_fields=["verification_tier"])
        request.status = VerificationRequest.Status.APPROVED
        request.reviewer, request.decided_at = by, timezone.now()
        request.save(update_fields=["status", "reviewer", "decided_at"])
        documents = list(user.identity_documents.values_list("pk", flat=True))
        AuditEntry.record(
            actor=by,
            action="verification.approve",
            obj=request,
            from_state=VerificationRequest.Status.PENDING,
            to_state=request.status,
            data={"documents": documents},
        )
        AuditEntry.record(
            actor=by,
            action="user.verification_tier",
            obj=user,
            from_state=old_tier,
            to_state=user.verification_tier,
            data={"verification_request": request.pk},
        )
        notify(
            [user],
            verb="verification.approved",
            message=_("Your identity is verified. Your verification level is now: %(tier)s."),
            params={"tier": VerificationTier(user.verification_tier).label},
            url=_verification_url(user),
        )
    request.user = user
    return request


def verification_request_reject(
    *, request: VerificationRequest, by, reason: str
) -> VerificationRequest:
    """Reject with a reason the person will read; their level stays as it is."""
    from .notifications import notify

    reason = (reason or "").strip()
    if not reason:
        raise VerificationError(_("Tell the person why their request is rejected."))
    with transaction.atomic():
        request = _lock_for_decision(request.pk, by)
        if request.status == VerificationRequest.Status.REJECTED:
            return request
        if request.status != VerificationRequest.Status.PENDING:
            raise VerificationError(_("This request was already decided."))
        request.status = VerificationRequest.Status.REJECTED
        request.reviewer, request.decided_at, request.reason = by, timezone.now(), reason
        request.save(update_fields=["status", "reviewer", "decided_at", "reason"])
        AuditEntry.record(
            actor=by,
            action="verification.reject",
            obj=request,
            from_state=VerificationRequest.Status.PENDING,
            to_state=request.status,
            reason=reason,
        )
        notify(
            [request.user],
            verb="verification.rejected",
            message=_("Your verification request was not approved: %(reason)s"),
            params={"reason": reason},
            url=_verification_url(request.user),
        )
    return request
