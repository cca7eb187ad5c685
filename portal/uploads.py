"""Uploads are judged by what they contain, not by their name or the type the
browser claims: only PDF, JPEG, PNG, WebP and MP4 get in.

It lives in the portal, the lowest layer, because every app takes uploads:
projects (plans, photos, videos) and the portal itself (identity documents)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def sniff_content_type(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, or None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    # MP4: an ISO base media box "ftyp" at offset 4 with an MP4-family brand.
    if head[4:8] == b"ftyp" and head[8:12] in {
        b"isom",
        b"iso2",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"dash",
        b"iso5",
        b"iso6",
    }:
        return "video/mp4"
    return None


def validate_upload(upload, *, allowed: set[str]) -> str:
    """Check size and content; return the sniffed content type."""
    limit = (
        settings.PUENTE_MAX_VIDEO_BYTES
        if allowed == {"video/mp4"}
        else settings.PUENTE_MAX_DOCUMENT_BYTES
    )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if upload.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(32)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type not in allowed:
        raise ValidationError(
            _("This kind of file is not accepted here. Accepted: %(kinds)s.")
            % {"kinds": ", ".join(sorted(EXTENSION_LABELS[t] for t in allowed))},
            code="bad_type",
        )
    if content_type in IMAGE_TYPES:
        _verify_image(upload)
    return content_type


def _verify_image(upload) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError(_("The image is damaged or incomplete."), code="bad_image") from error
    finally:
        upload.seek(0)


EXTENSION_LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "video/mp4": "MP4",
}
DOCUMENT_TYPES = set(EXTENSION_LABELS) - {"video/mp4"}


def download_response(file, *, filename: str, content_type: str, public: bool = False):
    """Serve a stored upload as a download, never rendered in the browser:
    `Content-Disposition: attachment`, `nosniff`, and a sandboxing CSP in case
    a browser opens it anyway. Private files are not kept by caches; `public`
    ones (documents anyone may read) for an hour."""
    from django.http import FileResponse

    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
