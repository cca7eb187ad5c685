"""Identity verification: investors upload documents and ask for a level;
reviewers approve (the investment limit rises) or reject with a reason."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from finance.services import investment_limit_left_usd
from portal.kyc import (
    IdentityDocument,
    VerificationError,
    VerificationRequest,
    identity_document_create,
    verification_request_approve,
    verification_request_create,
)
from portal.models import AuditEntry, Notification
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAGE = "/en/verification/"
QUEUE = "/admin/verification/"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def approve_url(item) -> str:
    return f"/admin/verification/{item.pk}/approve/"


def reject_url(item) -> str:
    return f"/admin/verification/{item.pk}/reject/"


@pytest.fixture
def investor(db):
    return UserFactory(full_name="Lucía Hernández", preferred_language="es")


def add_document(user, kind="passport", data=PDF, name="pasaporte-lucia.pdf"):
    content_type = "application/pdf" if data.startswith(b"%PDF") else "image/png"
    return identity_document_create(
        user=user, kind=kind, upload=SimpleUploadedFile(name, data), content_type=content_type
    )


@pytest.fixture
def pending(investor):
    add_document(investor)
    return verification_request_create(user=investor, requested_tier="identity_verified")


def sign_in(client, user):
    if not user.authenticator_set.exists():
        enable_totp(user)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name, data, accepted",
    [
        ("passport.pdf", PDF, True),
        ("passport.png", None, True),
        ("scan.pdf", None, True),  # a PNG named .pdf is judged a PNG
        ("passport.pdf", b"<html><script>alert(1)</script></html>", False),
        ("passport.pdf", b"", False),
    ],
)
def test_uploads_are_checked_by_content(client, investor, name, data, accepted):
    client.force_login(investor)
    content = png_bytes() if data is None else data
    response = client.post(
        "/en/verification/documents/",
        {
            "kind": "passport",
            "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )
    assert (response.status_code == 302) is accepted
    assert investor.identity_documents.exists() is accepted
    if accepted:
        document = investor.identity_documents.get()
        assert document.content_type == ("application/pdf" if data else "image/png")
        assert AuditEntry.objects.filter(
            action="identity_document.upload", object_id=str(document.pk)
        ).exists()


def test_documents_are_stored_privately_under_random_names(investor):
    document = add_document(investor)
    path = Path(document.file.path).resolve()
    assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert "pasaporte" not in path.name and "lucia" not in str(path)


def test_document_download_permission_matrix(client, investor, reviewer):
    document = add_document(investor)
    url = f"/en/verification/documents/{document.pk}/"

    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

    for person, expected in [(UserFactory(), 404), (investor, 200), (reviewer, 200)]:
        client.logout()
        sign_in(client, person)
        response = client.get(url)
        assert response.status_code == expected, (person, response.status_code)
        if expected == 200:
            assert response["Content-Disposition"].startswith("attachment")
            assert "pasaporte" not in response["Content-Disposition"]
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Cache-Control"] == "private, no-store"
            assert b"".join(response.streaming_content) == PDF


def test_reviewer_without_two_factor_is_sent_to_set_it_up(client, investor, reviewer):
    document = add_document(investor)
    client.force_login(reviewer)
    response = client.get(f"/en/verification/documents/{document.pk}/")
    assert response.status_code == 302
    assert "totp" in response["Location"]


def test_investor_uploads_and_requests_verification_from_the_page(client, investor):
    client.force_login(investor)
    client.post(
        "/en/verification/documents/",
        {"kind": "national_id", "file": SimpleUploadedFile("id.pdf", PDF)},
    )
    response = client.post("/en/verification/request/", {"requested_tier": "identity_verified"})
    assert response.status_code == 302
    request = investor.verification_requests.get()
    assert request.status == VerificationRequest.Status.PENDING
    page = client.get(PAGE).content.decode()
    assert "waiting for a reviewer" in page
    # The dashboard panel links to the page.
    dashboard = client.get("/en/dashboard/investor/").content.decode()
    assert 'href="/en/verification/"' in dashboard


def test_a_request_needs_the_right_documents(investor):
    with pytest.raises(VerificationError):
        verification_request_create(user=investor, requested_tier="identity_verified")
    add_document(investor)
    with pytest.raises(VerificationError, match="proof of address"):
        verification_request_create(user=investor, requested_tier="enhanced")
    verification_request_create(user=investor, requested_tier="identity_verified")
    with pytest.raises(VerificationError, match="already"):
        verification_request_create(user=investor, requested_tier="identity_verified")


def test_approval_raises_the_tier_and_the_investment_limit(client, investor, pending, reviewer):
    limits = settings.PUENTE_INVESTMENT_LIMITS_USD
    assert investment_limit_left_usd(investor) == limits["unverified"] == Decimal("1000")

    sign_in(client, reviewer)
    queue = client.get(QUEUE)
    assert queue.status_code == 200
    assert "Lucía Hernández" in queue.content.decode()
    document = investor.identity_documents.get()
    assert f"/verification/documents/{document.pk}/" in queue.content.decode()

    assert client.post(approve_url(pending)).status_code == 302

    investor.refresh_from_db()
    pending.refresh_from_db()
    assert investor.verification_tier == "identity_verified"
    assert investment_limit_left_usd(investor) == limits["identity_verified"]
    assert pending.status == VerificationRequest.Status.APPROVED
    assert pending.reviewer == reviewer and pending.decided_at is not None
    assert AuditEntry.objects.filter(
        action="verification.approve", object_id=str(pending.pk), actor=reviewer
    ).exists()
    tier_entry = AuditEntry.objects.get(action="user.verification_tier")
    assert (tier_entry.from_state, tier_entry.to_state) == ("unverified", "identity_verified")
    # Told in their own language (Spanish) with a link to the page in Spanish.
    notification = Notification.objects.get(recipient=investor)
    assert notification.verb == "verification.approved"
    assert notification.url == "/es/verification/"

    # Approving twice changes nothing.
    client.post(approve_url(pending))
    assert AuditEntry.objects.filter(action="verification.approve").count() == 1


def test_rejection_keeps_the_tier_and_tells_the_reason(client, investor, pending, reviewer):
    sign_in(client, reviewer)
    assert client.post(reject_url(pending), {"reason": ""}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == VerificationRequest.Status.PENDING  # a reason is required

    client.post(reject_url(pending), {"reason": "The passport has expired."})
    pending.refresh_from_db()
    investor.refresh_from_db()
    assert pending.status == VerificationRequest.Status.REJECTED
    assert investor.verification_tier == "unverified"
    assert investment_limit_left_usd(investor) == Decimal("1000")
    entry = AuditEntry.objects.get(action="verification.reject")
    assert entry.reason == "The passport has expired." and entry.actor == reviewer
    notification = Notification.objects.get(recipient=investor, verb="verification.rejected")
    assert "The passport has expired." in notification.message

    # A rejected request cannot be approved afterwards; a new one can be made.
    client.post(approve_url(pending))
    investor.refresh_from_db()
    assert investor.verification_tier == "unverified"
    client.force_login(investor)
    assert "The passport has expired." in client.get(PAGE).content.decode()
    verification_request_create(user=investor, requested_tier="identity_verified")


def test_a_reviewer_cannot_approve_their_own_request(client, reviewer):
    add_document(reviewer)
    own = verification_request_create(user=reviewer, requested_tier="identity_verified")
    with pytest.raises(VerificationError):
        verification_request_approve(request=own, by=reviewer)

    sign_in(client, reviewer)
    assert "another reviewer decides" in client.get(QUEUE).content.decode()
    client.post(approve_url(own))
    reviewer.refresh_from_db()
    own.refresh_from_db()
    assert reviewer.verification_tier == "unverified"
    assert own.status == VerificationRequest.Status.PENDING
    assert not AuditEntry.objects.filter(action="verification.approve").exists()

    colleague = MembershipFactory(
        organization=reviewer.memberships.get().organization, role="reviewer"
    ).user
    colleague.groups.add(Group.objects.get(name="Reviewers"))
    sign_in(client, colleague)
    client.post(approve_url(own))
    reviewer.refresh_from_db()
    assert reviewer.verification_tier == "identity_verified"


def test_people_without_the_reviewer_role_get_403(client, investor, pending):
    staff = UserFactory(is_staff=True)
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    staff.groups.add(editors)
    sign_in(client, staff)
    assert client.get(QUEUE).status_code == 403
    assert client.post(approve_url(pending)).status_code == 403
    assert client.post(reject_url(pending), {"reason": "no"}).status_code == 403
    investor.refresh_from_db()
    pending.refresh_from_db()
    assert investor.verification_tier == "unverified"
    assert pending.status == VerificationRequest.Status.PENDING


def test_enhanced_verification_lifts_the_limit(client, investor, reviewer):
    add_document(investor)
    add_document(investor, kind="proof_of_address", data=png_bytes(), name="bill.png")
    request = verification_request_create(user=investor, requested_tier="enhanced")
    verification_request_approve(request=request, by=reviewer)
    investor.refresh_from_db()
    assert investor.verification_tier == "enhanced"
    assert investment_limit_left_usd(investor) is None


def test_verification_queue_query_count_does_not_grow_with_requests(
    client, reviewer, django_assert_max_num_queries
):
    for _ in range(8):
        person = UserFactory()
        add_document(person)
        add_document(person, kind="proof_of_address")
        verification_request_create(user=person, requested_tier="identity_verified")
    sign_in(client, reviewer)
    client.get(QUEUE)  # warm caches (memberships, Wagtail's menu)
    with django_assert_max_num_queries(20):
        response = client.get(QUEUE)
    assert response.content.decode().count('id="verification-request-') == 8


def test_document_is_a_model_of_the_portal():
    assert IdentityDocument._meta.app_label == "portal"
