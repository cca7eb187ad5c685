"""Submitted versions stored before snapshots were language-independent held
each document's kind as its label in the submitter's language ("Plan de
negocios: plan.pdf"), budget lines as text ("Still: 6000.50 MXN") and the
funding sought as it was last assigned ("14000" rather than "14000.00"). Each
is rewritten in the form a snapshot takes now, so comparing a stored version
with the project today finds only what was really edited."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import migrations
from django.utils import translation


def document_kinds(Document) -> dict[str, str]:
    """Every label a document kind has had in a language the portal speaks,
    with its code. A label two kinds share in different languages says nothing
    and is left out."""
    codes_by_label: dict[str, set[str]] = {}
    for code, label in Document._meta.get_field("kind").choices:
        with translation.override(None):
            source = str(label)
        codes_by_label.setdefault(source, set()).add(code)
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                codes_by_label.setdefault(translation.gettext(source), set()).add(code)
    return {label: codes.pop() for label, codes in codes_by_label.items() if len(codes) == 1}


def canonical_amount(text: str) -> str | None:
    try:
        return str(Decimal(text).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def canonical_budget_line(line):
    """{"label", "amount"} of a line stored as "Label: 6000.50 MXN"."""
    if not isinstance(line, str):
        return line
    rest, _space, _currency = line.rpartition(" ")
    label, separator, amount = rest.rpartition(": ")
    amount = canonical_amount(amount) if separator else None
    if amount is None:
        return line
    return {"label": label, "amount": amount}


def canonical_document(document, kinds: dict[str, str]):
    """{"kind", "name"} of a document stored as "Business plan: plan.pdf". A
    label no language knows is kept as the kind, and is shown as stored."""
    if not isinstance(document, str):
        return document
    for label, code in kinds.items():
        if document.startswith(f"{label}: "):
            return {"kind": code, "name": document[len(label) + 2 :]}
    label, separator, name = document.partition(": ")
    if not separator:
        return document
    return {"kind": label, "name": name}


def canonicalize_versions(apps, schema_editor) -> None:
    ProjectVersion = apps.get_model("projects", "ProjectVersion")
    kinds = document_kinds(apps.get_model("projects", "Document"))
    # The longest label first, so that a label which begins another cannot take its place.
    kinds = dict(sorted(kinds.items(), key=lambda item: -len(item[0])))
    for version in ProjectVersion.objects.all().iterator():
        data = dict(version.data)
        funding = data.get("funding_sought")
        if isinstance(funding, str) and funding:
            data["funding_sought"] = canonical_amount(funding) or funding
        if isinstance(data.get("budget"), list):
            data["budget"] = [canonical_budget_line(line) for line in data["budget"]]
        if isinstance(data.get("documents"), list):
            data["documents"] = [canonical_document(d, kinds) for d in data["documents"]]
        if data != version.data:
            version.data = data
            version.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_project_sector_index")]

    operations = [migrations.RunPython(canonicalize_versions, migrations.RunPython.noop)]
