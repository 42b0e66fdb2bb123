"""Rule 3: reach the customers who have not noticed. Their list often comes from outside
the helpdesk (an export from billing or orders), as CSV: this reads it, row by row.

Columns (header names are matched loosely, in any order; only the first two are needed):

| column    | also accepted as                          | what                              |
|-----------|-------------------------------------------|-----------------------------------|
| email     | e-mail, email address, mail               | required, one address             |
| name      | customer, full name, customer name        | required                          |
| reference | order, order id, account, account id, ref | optional, ≤ 100 characters        |
| amount    | total, charge, value                      | optional: 12.50, £12.50, 12,50 EUR |
| time_zone | timezone, tz, zone                        | optional IANA zone                |
| vip       | priority                                  | optional: yes/no, true/false, 1/0 |

Every row is judged on its own: good rows are kept, each bad row is reported with its
row number (as a spreadsheet shows it: the header is row 1) and what is wrong, so
nothing is dropped without saying so. A second row for the same e-mail is reported, not
merged. Errors never quote an e-mail address (they end up in Slack and logs).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_BYTES = 5 * 1024 * 1024  # a 20,000-row export is about 2 MB
MAX_ROWS = 20_000
NAME_MAX = 300
REFERENCE_MAX = 100

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_AMOUNT = re.compile(
    r"^(?P<pre>[A-Z]{3}|[£$€¥])?\s*(?P<num>-?[0-9][0-9 ,.']*)\s*(?P<post>[A-Z]{3}|[£$€¥])?$")
_SYMBOLS = {"£": "GBP", "$": "USD", "€": "EUR", "¥": "JPY"}
_YES = frozenset({"yes", "y", "true", "1", "x", "vip"})
_NO = frozenset({"", "no", "n", "false", "0"})


class Column(StrEnum):
    EMAIL = "email"
    NAME = "name"
    REFERENCE = "reference"
    AMOUNT = "amount"
    TIME_ZONE = "time_zone"
    VIP = "vip"


_ALIASES: dict[str, Column] = {}
for _column, _names in {
    Column.EMAIL: ("email", "e-mail", "email address", "e-mail address", "mail", "emailaddress"),
    Column.NAME: ("name", "customer", "full name", "customer name", "fullname", "contact"),
    Column.REFERENCE: ("reference", "order", "order id", "order number", "account",
                       "account id", "account number", "ref", "order ref", "invoice"),
    Column.AMOUNT: ("amount", "total", "charge", "value", "amount charged"),
    Column.TIME_ZONE: ("time_zone", "time zone", "timezone", "tz", "zone"),
    Column.VIP: ("vip", "priority", "is vip"),
}.items():
    for _name in _names:
        _ALIASES[_name] = _column


def _key(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").split())


@dataclass(frozen=True, slots=True)
class ImportedCustomer:
    """One good row: a customer to reach, as the file describes them."""

    row: int
    email: str  # lower case
    name: str
    reference: str | None
    amount: str | None  # normalised, e.g. "12.50 GBP" or "12.50"
    time_zone: str | None
    vip: bool


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    problem: str


@dataclass(frozen=True, slots=True)
class ParsedImport:
    customers: tuple[ImportedCustomer, ...]
    errors: tuple[RowError, ...]
    rows: int  # data rows read (header and blank lines left out)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not CSV, no e-mail column, too big); str() says
    what to do, fit for a Slack modal field error."""


def decode(content: bytes) -> str:
    """UTF-8 (with or without a BOM, as spreadsheets write it), else Windows-1252."""
    if len(content) > MAX_BYTES:
        raise UnreadableFile(too_large_text(len(content)))
    if b"\x00" in content[:4096]:
        raise UnreadableFile("That is not a CSV file (it looks binary). Export as CSV.")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def parse(content: bytes | str) -> ParsedImport:
    """Every row judged: the good customers and one error per bad row."""
    text = decode(content) if isinstance(content, bytes) else content
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("The file is empty.") from None
    except csv.Error as error:
        raise UnreadableFile(f"The file is not readable as CSV ({error}).") from None
    columns = _columns(header)
    customers: list[ImportedCustomer] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    rows = 0
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise UnreadableFile(f"The file has more than {MAX_ROWS:,} rows. Split it "
                                     "in parts.")
            result = _row(number, values, columns)
            if isinstance(result, RowError):
                errors.append(result)
                continue
            if result.email in seen:
                errors.append(RowError(number, f"same e-mail address as row {seen[result.email]}"
                                       " (kept that one)"))
                continue
            seen[result.email] = number
            customers.append(result)
    except csv.Error as error:
        raise UnreadableFile(f"The file stops being CSV near row {reader.line_num} "
                             f"({error}).") from None
    return ParsedImport(tuple(customers), tuple(errors), rows)


def _columns(header: list[str]) -> dict[Column, int]:
    columns: dict[Column, int] = {}
    for index, name in enumerate(header):
        column = _ALIASES.get(_key(name))
        if column is not None and column not in columns:
            columns[column] = index
    missing = [c for c in (Column.EMAIL, Column.NAME) if c not in columns]
    if missing:
        names = " and ".join(f"“{c.value}”" for c in missing)
        raise UnreadableFile(f"The first row must name the columns; {names} "
                             f"{'is' if len(missing) == 1 else 'are'} missing. Expected: "
                             "email, name, and optionally reference, amount, time_zone, vip.")
    return columns


def _cell(values: list[str], columns: dict[Column, int], column: Column) -> str:
    index = columns.get(column)
    if index is None or index >= len(values):
        return ""
    return " ".join(values[index].split())


def _row(number: int, values: list[str], columns: dict[Column, int]) -> ImportedCustomer | RowError:
    email = _cell(values, columns, Column.EMAIL).strip("<>").lower()
    if not email:
        return RowError(number, "no e-mail address")
    if not _EMAIL.fullmatch(email):
        return RowError(number, "the e-mail address is not valid")
    name = _cell(values, columns, Column.NAME)
    if not name:
        return RowError(number, "no name")
    if len(name) > NAME_MAX:
        return RowError(number, f"the name is longer than {NAME_MAX} characters")
    reference = _cell(values, columns, Column.REFERENCE) or None
    if reference and len(reference) > REFERENCE_MAX:
        return RowError(number, f"the reference is longer than {REFERENCE_MAX} characters")
    amount_text = _cell(values, columns, Column.AMOUNT)
    amount = amount_of(amount_text) if amount_text else None
    if amount_text and amount is None:
        return RowError(number, "the amount is not a number (e.g. 12.50 or £12.50)")
    zone = _cell(values, columns, Column.TIME_ZONE) or None
    if zone and not is_zone(zone):
        return RowError(number, "the time zone is not an IANA zone (e.g. Europe/London)")
    vip_text = _cell(values, columns, Column.VIP).lower()
    if vip_text not in _YES | _NO:
        return RowError(number, "VIP must be yes or no")
    return ImportedCustomer(number, email, name, reference, amount, zone, vip_text in _YES)


def is_zone(name: str) -> bool:
    if "/" not in name and name.upper() != "UTC":
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def amount_of(text: str) -> str | None:
    """A money amount, normalised: '£1,234.5' → '1234.50 GBP'; '12,50 EUR' → '12.50 EUR'."""
    match = _AMOUNT.match(text.strip().upper())
    if not match:
        return None
    currency = match.group("pre") or match.group("post")
    if match.group("pre") and match.group("post"):
        return None
    number = match.group("num").replace(" ", "").replace("'", "")
    if "," in number and "." in number:
        # The later separator is the decimal one: 1.234,50 or 1,234.50.
        decimal_sep = "," if number.rfind(",") > number.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        number = number.replace(thousands, "").replace(decimal_sep, ".")
    elif "," in number:
        head, _, tail = number.rpartition(",")
        number = f"{head.replace(',', '')}.{tail}" if len(tail) in (1, 2) else number.replace(
            ",", "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        return None
    text_value = f"{value.quantize(Decimal('0.01'))}"
    code = _SYMBOLS.get(currency or "", currency)
    return f"{text_value} {code}" if code else text_value


def report_csv(errors: tuple[RowError, ...] | list[RowError]) -> str:
    """The bad rows as CSV (row, problem), for the team to fix and upload again."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("row", "problem"))
    for error in errors:
        writer.writerow((error.row, error.problem))
    return buffer.getvalue()


# --- A file shared in an incident's thread ------------------------------------------------


class SharedFileVerdict(StrEnum):
    IMPORT = "import"  # a CSV within the size limit: read it like the form's file
    NOT_CSV = "not_csv"  # a document or spreadsheet in another format: say so, briefly
    TOO_LARGE = "too_large"  # a CSV past MAX_BYTES: say so, without downloading it
    IGNORE = "ignore"  # a screenshot, a recording: ordinary in a thread, not for us


_MEDIA = ("image/", "video/", "audio/")
_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})


def judge_shared_file(name: str, filetype: str, mimetype: str, size: int) -> SharedFileVerdict:
    """What a file a person shared in an incident's thread asks of **Add customers**.

    A CSV (Slack's `filetype` "csv", a `.csv` name, or a CSV MIME type) is imported when
    it is at most MAX_BYTES. Images, video and audio are what people share while working
    an incident (screenshots), so they are left alone; any other file gets a short answer
    saying only CSV files are read.
    """
    mime = mimetype.strip().lower()
    is_csv = (filetype.strip().lower() == "csv" or name.strip().lower().endswith(".csv")
              or mime in _CSV_TYPES)
    if is_csv:
        return SharedFileVerdict.TOO_LARGE if size > MAX_BYTES else SharedFileVerdict.IMPORT
    if mime.startswith(_MEDIA):
        return SharedFileVerdict.IGNORE
    return SharedFileVerdict.NOT_CSV


def too_large_text(size: int) -> str:
    return (f"The file is {size / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB. "
            "Split it in parts.")


NOT_CSV_TEXT = ("I read customer lists as CSV files only (an e-mail and a name column). "
                "Export it as CSV and share that here.")
