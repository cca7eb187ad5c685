"""Upload checks for project documents. The code lives in `portal.uploads`
(identity documents need it too, and the portal may not import projects);
these names stay here so project code keeps importing them from its own app."""

from portal.uploads import (
    DOCUMENT_TYPES,
    EXTENSION_LABELS,
    IMAGE_TYPES,
    sniff_content_type,
    validate_upload,
)

__all__ = [
    "DOCUMENT_TYPES",
    "EXTENSION_LABELS",
    "IMAGE_TYPES",
    "sniff_content_type",
    "validate_upload",
]
