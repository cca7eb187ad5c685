"""Reading bank statements (ISO 20022 CAMT.053 XML, or the bank's CSV export)
and importing them: store each booked entry once, then match it.

A file is read completely before anything is written: a malformed file, a
missing column or an unreadable amount raises StatementError naming the
place, and the database is left as it was.

The XML comes from outside, so it is parsed defensively: the file size is
capped, a document type declaration (which is where entity definitions —
"billion laughs", external entities — live) is refused both by looking at
the bytes and by the parser itself, and only ASCII-compatible single-byte or
UTF-8 encodings are accepted so the byte check cannot be dodged.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.parsers import expat

from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from stdnum import iso11649

from portal.models import AuditEntry

from .bank import BankStatementImport, BankStatementLine
from .exceptions import FinanceError, MoneyError
from .money import Money
from .offerings import Pledge
from .payments.bank_transfer import match_line
from .services import matching_batch, pledges_lock

logger = logging.getLogger(__name__)

MAX_STATEMENT_BYTES = 5 * 1024 * 1024
CAMT053_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
CAMT053_VERSIONS = range(2, 9)  # camt.053.001.02 to .08

Direction = BankStatementLine.Direction


class StatementError(FinanceError):
    """The file cannot be imported. The message is safe to show staff;
    nothing was written."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedLine:
    account: str
    entry_reference: str
    booking_date: datetime.date
    direction: str
    amount: Decimal
    currency: str
    remitter_name: str = ""
    remitter_account: str = ""
    remittance_info: str = ""
    rf_reference: str = ""
    is_reversal: bool = False


@dataclass
class ParsedStatement:
    format: str
    lines: list[ParsedLine] = field(default_factory=list)
    unbooked: int = 0


# --- References ---------------------------------------------------------------------------------

# Written compact ("RF18539007547034", any case) or in groups of four as printed
# ("RF18 5390 0754 7034"); the grouped form is upper case only, so the words after
# a reference are not read as part of it.
_RF_COMPACT = re.compile(r"(?<![0-9A-Za-z])[Rr][Ff]\d{2}[0-9A-Za-z]{1,21}(?![0-9A-Za-z])")
_RF_GROUPED = re.compile(r"(?<![0-9A-Za-z])RF\d{2}(?: [0-9A-Z]{1,4})+(?![0-9A-Za-z])")


def find_rf_reference(text: str) -> str:
    """The first valid ISO 11649 reference in free text, compact and upper
    case, or "". A candidate must pass the check digits (`iso11649.is_valid`)."""
    if not text:
        return ""
    for match in _RF_COMPACT.finditer(text):
        if iso11649.is_valid(match.group()):
            return iso11649.compact(match.group())
    for match in _RF_GROUPED.finditer(text):
        groups = match.group().split(" ")
        # The longest run of groups that is valid: a word in capitals after a
        # printed reference may have been taken for a last group.
        for end in range(len(groups), 1, -1):
            candidate = "".join(groups[:end])
            if len(candidate) <= 25 and iso11649.is_valid(candidate):
                return iso11649.compact(candidate)
    return ""


def _structured_reference(value: str) -> str:
    compact = iso11649.compact(value or "")
    return compact if compact.startswith("RF") and iso11649.is_valid(compact) else ""


# --- Amounts, currencies, dates -------------------------------------------------------------------

_PLAIN_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _checked_amount(amount: Decimal, currency: str, where: str) -> tuple[Decimal, str]:
    try:
        money = Money(amount, currency)
        money.minor_units  # noqa: B018 - raises if finer than the currency's minor unit
    except MoneyError:
        try:
            Money.zero(currency)
        except MoneyError:
            raise StatementError(
                _("%(where)s: %(currency)s is not a currency code.")
                % {"where": where, "currency": currency or "—"}
            ) from None
        raise StatementError(
            _("%(where)s: the amount %(amount)s has more decimals than %(currency)s allows.")
            % {"where": where, "amount": amount, "currency": currency}
        ) from None
    if money.amount == 0:
        raise StatementError(_("%(where)s: the amount is zero.") % {"where": where})
    if abs(money.amount) >= Decimal("1e15"):
        raise StatementError(
            _("%(where)s: the amount %(amount)s is too large.") % {"where": where, "amount": amount}
        )
    return money.amount, money.currency


def _iso_date(value: str, where: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value[:10])
    except (TypeError, ValueError):
        raise StatementError(
            _("%(where)s: cannot read the booking date %(value)r.")
            % {"where": where, "value": value}
        ) from None


# --- CAMT.053 -----------------------------------------------------------------------------------

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# ASCII-compatible encodings, in which "<!DOCTYPE" is always those bytes.
_SAFE_XML_ENCODINGS = {
    "utf-8",
    "utf8",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "latin-1",
    "latin1",
    "iso-8859-15",
    "windows-1252",
    "cp1252",
}


class _Refused(Exception):
    pass


def _refuse(*args) -> None:
    raise _Refused


def _check_xml_safety(data: bytes) -> None:
    """Refuse what an attacker would need for entity tricks, before parsing."""
    if b"\x00" in data or data.startswith((b"\xfe\xff", b"\xff\xfe")):
        raise StatementError(_("The statement must be encoded in UTF-8."))
    declared = _XML_ENCODING.match(data)
    if declared and declared.group(1).decode("ascii").lower() not in _SAFE_XML_ENCODINGS:
        raise StatementError(
            _("The statement's encoding %(encoding)s is not accepted: use UTF-8.")
            % {"encoding": declared.group(1).decode("ascii")}
        )
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise StatementError(
            _("The statement contains a document type or entity declaration; these are refused.")
        )
    # The parser itself refuses them too, in case the bytes said otherwise.
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    try:
        parser.Parse(data, True)
    except _Refused:
        raise StatementError(
            _("The statement contains a document type or entity declaration; these are refused.")
        ) from None
    except expat.ExpatError as error:
        raise StatementError(
            _("The statement is not well-formed XML (line %(line)s, column %(column)s): %(error)s.")
            % {
                "line": error.lineno,
                "column": error.offset,
                "error": expat.ErrorString(error.code),
            }
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _texts(element, path: str) -> list[str]:
    if element is None:
        return []
    return [(e.text or "").strip() for e in element.findall(path) if (e.text or "").strip()]


def _first(element, *paths: str) -> str:
    for path in paths:
        value = _text(element, path)
        if value:
            return value
    return ""


def _party_name(parties, role: str) -> str:
    # camt.053.001.02 to .07: Dbtr/Nm; .08: Dbtr/Pty/Nm.
    return _first(
        parties,
        f"{role}/Nm",
        f"{role}/Pty/Nm",
        f"Ultmt{role}/Nm",
        f"Ultmt{role}/Pty/Nm",
    )


def _party_account(parties, role: str) -> str:
    return _first(parties, f"{role}Acct/Id/IBAN", f"{role}Acct/Id/Othr/Id")


def parse_camt053(data: bytes) -> ParsedStatement:
    """Read an ISO 20022 bank-to-customer statement, camt.053.001.02 to .08.

    One line per booked entry (``Ntry`` with status BOOK or no status); an
    entry that batches several transactions each with its own amount gives one
    line per transaction. Pending and informational entries are counted, not
    imported."""
    _check_xml_safety(data)
    try:
        root = ET.fromstring(data)  # noqa: S314 - DOCTYPE and entities refused above
    except ET.ParseError as error:
        raise StatementError(
            _("The statement is not well-formed XML: %(error)s.") % {"error": error}
        ) from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    version = CAMT053_NAMESPACE.match(namespace)
    if _local(root.tag) != "Document" or version is None:
        raise StatementError(
            _("This is not a CAMT.053 bank statement (found %(found)s).")
            % {"found": namespace or _local(root.tag)}
        )
    if int(version.group(1)) not in CAMT053_VERSIONS:
        raise StatementError(
            _("camt.053.001.%(version)s is not supported; versions 02 to 08 are.")
            % {"version": version.group(1)}
        )
    for element in root.iter():
        element.tag = _local(element.tag)
    statements = root.findall("BkToCstmrStmt/Stmt")
    if root.find("BkToCstmrStmt") is None:
        raise StatementError(_("The file has no BkToCstmrStmt element."))
    parsed = ParsedStatement(format=BankStatementImport.Format.CAMT053)
    for number, statement in enumerate(statements, 1):
        statement_id = _text(statement, "Id") or str(number)
        account = _first(statement, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
        for index, entry in enumerate(statement.findall("Ntry"), 1):
            where = _("Statement %(statement)s, entry %(entry)s") % {
                "statement": statement_id,
                "entry": index,
            }
            status = _first(entry, "Sts/Cd", "Sts/Prtry", "Sts").upper()
            if status and status != "BOOK":
                parsed.unbooked += 1
                continue
            parsed.lines.extend(
                _camt_entry_lines(
                    entry, account=account, fallback_id=f"{statement_id}:{index}", where=str(where)
                )
            )
    return parsed


def _camt_amount(element, where: str) -> tuple[Decimal, str] | None:
    amount = element.find("Amt") if element is not None else None
    if amount is None:
        return None
    text = (amount.text or "").strip()
    if not _PLAIN_AMOUNT.match(text) or text.startswith(("-", "+")):
        raise StatementError(
            _("%(where)s: cannot read the amount %(value)r.") % {"where": where, "value": text}
        )
    return _checked_amount(Decimal(text), (amount.get("Ccy") or "").strip().upper(), where)


def _camt_entry_lines(entry, *, account: str, fallback_id: str, where: str) -> list[ParsedLine]:
    entry_amount = _camt_amount(entry, where)
    if entry_amount is None:
        raise StatementError(_("%(where)s: the amount (Amt) is missing.") % {"where": where})
    indicator = _text(entry, "CdtDbtInd").upper()
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(
            _("%(where)s: CdtDbtInd must be CRDT or DBIT, not %(value)r.")
            % {"where": where, "value": indicator}
        )
    direction = Direction.CREDIT if indicator == "CRDT" else Direction.DEBIT
    booked = _first(entry, "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm")
    if not booked:
        raise StatementError(_("%(where)s: the booking date is missing.") % {"where": where})
    booking_date = _iso_date(booked, where)
    reversal = _text(entry, "RvslInd").lower() == "true"
    entry_id = _first(entry, "AcctSvcrRef", "NtryRef")
    transactions = entry.findall("NtryDtls/TxDtls")

    # A batch: several transactions booked as one entry. Each becomes a line when
    # each carries its own amount and together they make up the entry.
    def own_amount(tx):
        return _camt_amount(tx, where) or _camt_amount(tx.find("AmtDtls/TxAmt"), where)

    parts: list[tuple[list, tuple[Decimal, str]]] = [(transactions, entry_amount)]
    if len(transactions) > 1:
        amounts = [own_amount(tx) for tx in transactions]
        if all(amounts) and {c for _a, c in amounts} == {entry_amount[1]}:
            if sum(a for a, _c in amounts) == entry_amount[0]:
                parts = [([tx], amount) for tx, amount in zip(transactions, amounts, strict=True)]
    split = len(parts) > 1
    role = "Dbtr" if direction == Direction.CREDIT else "Cdtr"
    lines = []
    for position, (group, (amount, currency)) in enumerate(parts, 1):
        first = group[0] if group else None
        tx_id = _first(first, "Refs/AcctSvcrRef", "Refs/TxId")
        end_to_end = _text(first, "Refs/EndToEndId")
        if end_to_end.upper() == "NOTPROVIDED":
            end_to_end = ""
        if split:
            reference = f"{entry_id or fallback_id}/{tx_id or end_to_end or position}"
        else:
            reference = entry_id or tx_id or end_to_end or fallback_id
        structured = [r for tx in group for r in _texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")]
        free = [t for tx in group for t in _texts(tx, "RmtInf/Ustrd")]
        extra = [t for tx in group for t in _texts(tx, "AddtlTxInf")]
        extra += _texts(entry, "AddtlNtryInf")
        rf = next((r for r in map(_structured_reference, structured) if r), "")
        rf = rf or find_rf_reference(" ".join(free)) or find_rf_reference(" ".join(extra))
        parties = first.find("RltdPties") if first is not None else None
        lines.append(
            ParsedLine(
                account=account[:70],
                entry_reference=reference[:140],
                booking_date=booking_date,
                direction=direction,
                amount=amount,
                currency=currency,
                remitter_name=_party_name(parties, role)[:140],
                remitter_account=_party_account(parties, role)[:70],
                remittance_info=" / ".join(structured + free + extra),
                rf_reference=rf,
                is_reversal=reversal,
            )
        )
    return lines


# --- CSV ----------------------------------------------------------------------------------------

#: Accepted header names per column (compared lower-case, spaces and dashes as underscores).
CSV_COLUMNS = {
    "date": ("date", "booking_date", "bookingdate", "booked"),
    "amount": ("amount",),
    "currency": ("currency", "ccy"),
    "reference": ("reference", "description", "remittance_information", "remittance", "details"),
    "remitter": ("remitter", "remitter_name", "payer", "counterparty", "name"),
    "entry_id": ("entry_id", "entry_reference", "transaction_id", "bank_reference", "id"),
    "account": ("account", "account_iban", "iban"),
    "remitter_account": ("remitter_account", "remitter_iban", "payer_iban"),
}
CSV_REQUIRED = ("date", "amount", "currency", "reference", "entry_id")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _header_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", (name or "").strip().lower())


def parse_csv_amount(value: str, *, delimiter: str = ",") -> Decimal | None:
    """A signed amount as banks write it: ``1234.56``, ``-1.234,56``,
    ``1,234.56``, ``1'234.56``. A lone comma is the decimal separator, except
    ``1,234`` in a comma-separated file (thousands). None if unreadable."""
    text = (value or "").strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in text:
        if text.count(",") > 1 or (
            delimiter == "," and re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text)
        ):
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    if not _PLAIN_AMOUNT.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _csv_date(value: str, where: str) -> datetime.date:
    text = (value or "").strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text[:10], pattern).date()
        except ValueError:
            continue
    raise StatementError(
        _("%(where)s: cannot read the date %(value)r (use YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY).")
        % {"where": where, "value": text}
    )


def parse_csv(data: bytes) -> ParsedStatement:
    """Read a CSV export with a header row. Required columns: date, amount
    (signed: negative is money out), currency, reference (or description) and
    the bank's entry id; optional: remitter, account, remitter account. The
    delimiter is sniffed between "," and ";"."""
    text = _decode(data)
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        first_line = sample.splitlines()[0] if sample.splitlines() else ""
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise StatementError(_("The file is empty.")) from None
    except csv.Error as error:
        raise StatementError(_("Line 1: %(error)s.") % {"error": error}) from None
    keys = [_header_key(name) for name in header]
    columns: dict[str, int] = {}
    for column, aliases in CSV_COLUMNS.items():
        for alias in aliases:
            if alias in keys:
                columns[column] = keys.index(alias)
                break
    missing = [column for column in CSV_REQUIRED if column not in columns]
    if missing:
        raise StatementError(
            _("Line 1: the header lacks the column(s) %(missing)s (found: %(found)s).")
            % {"missing": ", ".join(missing), "found": ", ".join(h.strip() for h in header) or "—"}
        )
    parsed = ParsedStatement(format=BankStatementImport.Format.CSV)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise StatementError(
                _("Line %(line)s: %(error)s.") % {"line": reader.line_num, "error": error}
            ) from None
        if not any(cell.strip() for cell in row):
            continue
        where = str(_("Line %(line)s") % {"line": reader.line_num})

        def cell(column: str, row=row) -> str:
            index = columns.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        raw_amount = cell("amount")
        amount = parse_csv_amount(raw_amount, delimiter=delimiter)
        if amount is None:
            raise StatementError(
                _("%(where)s: cannot read the amount %(value)r.")
                % {"where": where, "value": raw_amount}
            )
        amount, currency = _checked_amount(amount, cell("currency").upper(), where)
        entry_id = cell("entry_id")
        if not entry_id:
            raise StatementError(_("%(where)s: the entry id is empty.") % {"where": where})
        reference = cell("reference")
        parsed.lines.append(
            ParsedLine(
                account=cell("account").replace(" ", "").upper()[:70],
                entry_reference=entry_id[:140],
                booking_date=_csv_date(cell("date"), where),
                direction=Direction.CREDIT if amount > 0 else Direction.DEBIT,
                amount=abs(amount),
                currency=currency,
                remitter_name=cell("remitter")[:140],
                remitter_account=cell("remitter_account").replace(" ", "").upper()[:70],
                remittance_info=reference,
                rf_reference=find_rf_reference(reference),
            )
        )
    return parsed


# --- Import -------------------------------------------------------------------------------------


def parse_statement(data: bytes) -> ParsedStatement:
    """Read a statement file, CAMT.053 if it is XML, CSV otherwise."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_STATEMENT_BYTES // (1024 * 1024)}
        )
    if data.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in data[:4096]:
        raise StatementError(_("The statement must be encoded in UTF-8."))
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise StatementError(_("The file is empty."))
    if head.startswith(b"<"):
        return parse_camt053(data)
    return parse_csv(data)


def _known_keys(lines: list[ParsedLine]) -> set[tuple[str, str]]:
    references = sorted({line.entry_reference for line in lines})
    known: set[tuple[str, str]] = set()
    for start in range(0, len(references), 500):
        known.update(
            BankStatementLine.objects.filter(
                entry_reference__in=references[start : start + 500]
            ).values_list("account_iban", "entry_reference")
        )
    return known


def import_statement(*, file_bytes: bytes, filename: str, uploaded_by) -> BankStatementImport:
    """Import a statement file and match its new lines.

    The same file (same SHA-256) imported again changes nothing: the earlier
    import is returned with ``already_imported = True``. A line already stored
    from another file (same account and bank entry reference) is skipped and
    counted in ``known_line_count``. Raises StatementError for a file that
    cannot be read; then nothing is written. Storing and matching happen in
    one transaction: the import happens whole or not at all."""
    digest = hashlib.sha256(file_bytes).hexdigest()
    existing = BankStatementImport.objects.filter(sha256=digest).first()
    if existing is not None:
        existing.already_imported = True
        return existing
    parsed = parse_statement(file_bytes)
    # The line being stored, then the one being matched: what the database refused.
    storing: ParsedLine | None = None
    matching: BankStatementLine | None = None
    try:
        with transaction.atomic():
            statement = BankStatementImport.objects.create(
                uploaded_by=uploaded_by,
                sha256=digest,
                original_name=(filename or "statement")[:255],
                format=parsed.format,
                line_count=len(parsed.lines),
                unbooked_count=parsed.unbooked,
            )
            known = _known_keys(parsed.lines)
            new_lines = []
            for parsed_line in parsed.lines:
                key = (parsed_line.account, parsed_line.entry_reference)
                if key in known:
                    continue
                known.add(key)  # the same entry twice in one file counts once
                storing = parsed_line
                new_lines.append(
                    BankStatementLine.objects.create(
                        statement_import=statement,
                        account_iban=parsed_line.account,
                        entry_reference=parsed_line.entry_reference,
                        booking_date=parsed_line.booking_date,
                        direction=parsed_line.direction,
                        amount=parsed_line.amount,
                        currency=parsed_line.currency,
                        remitter_name=parsed_line.remitter_name,
                        remitter_account=parsed_line.remitter_account,
                        remittance_info=parsed_line.remittance_info,
                        rf_reference=parsed_line.rf_reference,
                        is_reversal=parsed_line.is_reversal,
                    )
                )
            storing = None
            statement.new_line_count = len(new_lines)
            statement.known_line_count = len(parsed.lines) - len(new_lines)
            statement.save(update_fields=["new_line_count", "known_line_count"])
            # Every pledge the file names is locked first, in pk order, before
            # any line is booked: an offering closing at the same moment takes
            # them in the same order, so the two wait for each other, never in
            # a circle (the lock order in finance.services).
            pledges_lock(
                Pledge.objects.filter(
                    bank_reference__in={
                        line.rf_reference
                        for line in new_lines
                        if line.rf_reference
                        and line.direction == BankStatementLine.Direction.CREDIT
                    }
                )
            )
            # Pledges paid by this statement are matched together at the end,
            # so a sponsor's last funds are shared, not taken by the first line.
            with matching_batch():
                for line in new_lines:
                    matching = line
                    match_line(line)
                matching = None
            AuditEntry.record(
                actor=uploaded_by,
                action="bank_statement.imported",
                obj=statement,
                data={"file": statement.original_name, **statement.status_counts()},
            )
    except IntegrityError as refused:
        # The same file, or a line of it, imported by a concurrent request that
        # committed first: what it stored stands.
        existing = BankStatementImport.objects.filter(sha256=digest).first()
        if existing is not None:
            existing.already_imported = True
            return existing
        if storing is not None and (storing.account, storing.entry_reference) in _known_keys(
            [storing]
        ):
            raise StatementError(
                _(
                    "Another import stored some of these lines at the same moment. Import the file again."
                )
            ) from None
        # Anything else is refused again on every try: said once, with the line, and logged.
        line = storing or matching
        logger.exception(
            "Statement %r was not imported: the database refused %s",
            filename,
            f"line {line.entry_reference}" if line else "the import (no single line)",
        )
        raise StatementError(_refused_message(line)) from refused
    return statement


def _refused_message(line: ParsedLine | BankStatementLine | None) -> str:
    if line is None:
        return _(
            "The file could not be imported: the database refused it. Nothing from the file "
            "was stored; the error was logged for the technical team."
        )
    return _(
        "The line %(entry)s (%(amount)s, booked on %(date)s) could not be imported: the "
        "database refused it. Nothing from the file was stored; the error was logged for the "
        "technical team."
    ) % {
        "entry": line.entry_reference,
        "amount": Money(line.amount, line.currency).localized(),
        "date": formats.date_format(line.booking_date),
    }
