"""Checks on the video and caption files editors attach to lessons and stories.

Like every upload of the portal (``portal.uploads``), a file is judged by what
it contains: a video must be an MP4, captions a UTF-8 WebVTT file, each under
its size limit. The same checks run when a document is uploaded (``cms.forms``)
and when a video block is saved, so a file uploaded before the checks existed
cannot slip into a page either.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from portal.uploads import validate_upload

# Captions of an hour-long video fit in well under 100 KB.
CAPTIONS_MAX_BYTES = 256 * 1024
UTF8_BOM = b"\xef\xbb\xbf"


def is_webvtt(head: bytes) -> bool:
    """A WebVTT file starts with "WEBVTT" (after an optional byte-order mark),
    followed by the end of the file, a space, a tab or a line break."""
    head = head.removeprefix(UTF8_BOM)
    return head.startswith(b"WEBVTT") and head[6:7] in (b"", b" ", b"\t", b"\n", b"\r")


def validate_captions(file) -> None:
    """Refuse anything but a UTF-8 WebVTT file up to CAPTIONS_MAX_BYTES."""
    if file.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if file.size > CAPTIONS_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(CAPTIONS_MAX_BYTES)},
            code="too_large",
        )
    file.seek(0)
    content = file.read(CAPTIONS_MAX_BYTES + 1)
    file.seek(0)
    if not is_webvtt(content[:16]):
        raise ValidationError(
            _("Captions must be a WebVTT file: its first line reads WEBVTT."), code="not_webvtt"
        )
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            _("Captions must be saved as UTF-8 text."), code="not_utf8"
        ) from error


def validate_video(file) -> None:
    """Refuse anything but an MP4 file up to the portal's video limit."""
    validate_upload(file, allowed={"video/mp4"})


def check_document(document, validate) -> None:
    """Run a validator on a stored document's file."""
    try:
        with document.open_file() as file:
            validate(file)
    except OSError as error:
        raise ValidationError(
            _("The file of “%(title)s” cannot be read.") % {"title": document.title},
            code="unreadable",
        ) from error
