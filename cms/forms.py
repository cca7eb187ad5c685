"""The document upload form of the admin, checking content and size.

Enabled with ``WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms.forms.DocumentForm"``.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from wagtail.documents.forms import BaseDocumentForm

from portal.uploads import DOCUMENT_TYPES, sniff_content_type, validate_upload

from .media import is_webvtt, validate_captions


class DocumentForm(BaseDocumentForm):
    """Documents are PDFs, pictures, MP4 videos or WebVTT captions, recognised
    by their content (a ``.vtt`` name must hold WebVTT too)."""

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not isinstance(upload, UploadedFile):
            return upload  # editing a document without replacing its file
        upload.seek(0)
        head = upload.read(32)
        upload.seek(0)
        if upload.name.lower().endswith(".vtt") or is_webvtt(head):
            validate_captions(upload)
        elif sniff_content_type(head) == "video/mp4":
            validate_upload(upload, allowed={"video/mp4"})
        else:
            validate_upload(upload, allowed=DOCUMENT_TYPES)
        return upload
