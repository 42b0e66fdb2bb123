"""Reading a customer list from a CSV export: every row judged, bad rows reported by number."""

from __future__ import annotations

import pytest

from bot.domain.customer_import import (
    MAX_BYTES,
    RowError,
    SharedFileVerdict,
    UnreadableFile,
    amount_of,
    judge_shared_file,
    parse,
    report_csv,
)
from bot.domain.delivery import (
    Recipient,
    Target,
    TicketRef,
    choose_targets,
    creation_ref,
    outbound_subject,
)

GOOD_AND_BAD = (
    "Email,Name,Order ID,Amount,Time zone,VIP\n"
    "ana@acme.test,Ana Silva,A-1001,£12.50,Europe/Lisbon,yes\n"
    "not-an-address,Bo Chen,A-1002,3,,\n"
    "cy@c.test,,A-1003,,,\n"
    "\n"
    "dee@d.test,Dee,A-1004,twelve,,\n"
    "ed@e.test,Ed,A-1005,,Mars/Olympus,\n"
    "ANA@acme.test,Ana again,A-1006,,,\n"
    "fi@f.test,Fi,,\"1,234.50 EUR\",,maybe\n"
    "gus@g.test,Gus,,,UTC,no\n"
)


def test_good_rows_are_kept_and_each_bad_row_says_its_number_and_problem() -> None:
    """Two good rows kept; six bad ones reported with the spreadsheet's row numbers."""
    parsed = parse(GOOD_AND_BAD.encode())
    assert [(c.row, c.email, c.name, c.reference, c.amount, c.time_zone, c.vip)
            for c in parsed.customers] == [
        (2, "ana@acme.test", "Ana Silva", "A-1001", "12.50 GBP", "Europe/Lisbon", True),
        (10, "gus@g.test", "Gus", None, None, "UTC", False)]
    assert parsed.errors == (
        RowError(3, "the e-mail address is not valid"),
        RowError(4, "no name"),
        RowError(6, "the amount is not a number (e.g. 12.50 or £12.50)"),
        RowError(7, "the time zone is not an IANA zone (e.g. Europe/London)"),
        RowError(8, "same e-mail address as row 2 (kept that one)"),
        RowError(9, "VIP must be yes or no"),
    )
    assert parsed.rows == 8  # the blank line (row 5) is not a row
    assert all("@" not in e.problem for e in parsed.errors)  # no address is echoed


def test_semicolons_a_bom_and_windows_1252_are_read() -> None:
    """Spreadsheet exports: a UTF-8 BOM and ';' separators, or Windows-1252 bytes."""
    bom = "\ufeffe-mail;customer name\nzoe@z.test;Zoë\n".encode()
    assert [(c.email, c.name) for c in parse(bom).customers] == [("zoe@z.test", "Zoë")]
    latin = "email,name\nrene@r.test,Ren\xe9\n".encode("cp1252")
    assert parse(latin).customers[0].name == "René"


@pytest.mark.parametrize(("content", "says"), [
    (b"", "empty"),
    (b"name,phone\nAna,123\n", "email"),
    (b"\x00\x01\x02binary", "not a CSV"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(content: bytes, says: str) -> None:
    """No header with e-mail and name, an empty or a binary file: nothing is imported."""
    with pytest.raises(UnreadableFile, match=says):
        parse(content)


@pytest.mark.parametrize(("text", "expected"), [
    ("12", "12.00"), ("£12.5", "12.50 GBP"), ("12,50 EUR", "12.50 EUR"),
    ("1.234,50 EUR", "1234.50 EUR"), ("$1,234", "1234.00 USD"), ("USD 7.10", "7.10 USD"),
    ("abc", None), ("£12 EUR", None),
])
def test_amounts_are_normalised(text: str, expected: str | None) -> None:
    """Amounts as billing systems write them become one plain form (or are refused)."""
    assert amount_of(text) == expected


def test_the_report_lists_every_bad_row_as_csv() -> None:
    """The file to fix: a header, then one line per bad row."""
    assert report_csv([RowError(3, "no name")]) == "row,problem\r\n3,no name\r\n"


def test_customers_without_an_open_ticket_get_a_new_one() -> None:
    """Open ticket → reply; only closed tickets or none, with an address → new ticket;
    neither a ticket nor an address → not reachable; an update follows the earlier ticket."""
    tickets = [TicketRef("zendesk", "1", "ana", "open", None),
               TicketRef("zendesk", "2", "bo", "solved", None),
               TicketRef("zendesk", "3", "cy", "closed", None)]
    recipients = [Recipient("zendesk", "ana", "ana@a.test"), Recipient("zendesk", "bo", "b@b.t"),
                  Recipient("zendesk", "cy", None), Recipient("zendesk", "csv-1", "d@d.t"),
                  Recipient("zendesk", "csv-2", None)]
    assert choose_targets(tickets, recipients) == [
        Target("zendesk", "ana", "1"), Target("zendesk", "bo", None),
        Target("zendesk", "cy", "3"), Target("zendesk", "csv-1", None)]
    later = choose_targets(tickets, recipients, earlier={("zendesk", "bo"): "77",
                                                         ("zendesk", "csv-1"): "78"})
    assert [t.ticket_id for t in later] == ["1", "77", "3", "78"]


def test_a_later_message_waits_for_a_new_ticket_not_made_yet() -> None:
    """A customer whose first message is still opening a new ticket gets no second one:
    the update waits for that ticket (even if another ticket of theirs turned up), once
    it is made it follows it; with every ticket, the waiting copy is on top of the others."""
    tickets = [TicketRef("zendesk", "1", "ana", "open", None),
               TicketRef("zendesk", "2", "bo", "open", None),
               TicketRef("zendesk", "3", "cy", "solved", None)]
    recipients = [Recipient("zendesk", "ana", "a@a.t"), Recipient("zendesk", "bo", "b@b.t"),
                  Recipient("zendesk", "cy", "c@c.t"), Recipient("zendesk", "csv-1", "d@d.t"),
                  Recipient("zendesk", "csv-2", "e@e.t")]
    creating = {("zendesk", "bo"), ("zendesk", "cy"), ("zendesk", "csv-1")}
    targets = choose_targets(tickets, recipients, creating=creating)
    assert targets == [
        Target("zendesk", "ana", "1"), Target("zendesk", "csv-2", None),
        Target("zendesk", "bo", None, awaits=True), Target("zendesk", "cy", None, awaits=True),
        Target("zendesk", "csv-1", None, awaits=True)]
    assert [t.creates for t in targets] == [False, True, False, False, False]
    made = choose_targets(tickets, recipients, creating={("zendesk", "csv-1")},
                          earlier={("zendesk", "csv-1"): "9"})
    assert Target("zendesk", "csv-1", "9") in made and not any(t.awaits for t in made)
    every = choose_targets(tickets, recipients, every_ticket=True, creating=creating)
    assert [(t.customer_id, t.ticket_id, t.awaits) for t in every] == [
        ("ana", "1", False), ("bo", "2", False), ("cy", "3", False), ("csv-2", None, False),
        ("bo", None, True), ("cy", None, True), ("csv-1", None, True)]


def test_a_creation_reference_is_stable_and_unique_per_customer() -> None:
    """Same message and customer → same reference (every attempt); another customer differs."""
    one = creation_ref("Ref: AMD-1-2-3", "zendesk", "csv-a")
    assert one == creation_ref("Ref: AMD-1-2-3", "zendesk", "csv-a")
    assert one.startswith("AMD-1-2-3-") and one != creation_ref("Ref: AMD-1-2-3", "zendesk", "b")
    assert "A-1001" in outbound_subject("A-1001")


@pytest.mark.parametrize(("name", "filetype", "mimetype", "size", "verdict"), [
    ("billing.csv", "csv", "text/csv", 100, SharedFileVerdict.IMPORT),
    ("EXPORT.CSV", "text", "text/plain", 100, SharedFileVerdict.IMPORT),  # by its name
    ("list", "", "application/csv", 100, SharedFileVerdict.IMPORT),  # by its MIME type
    ("billing.csv", "csv", "text/csv", MAX_BYTES, SharedFileVerdict.IMPORT),
    ("billing.csv", "csv", "text/csv", MAX_BYTES + 1, SharedFileVerdict.TOO_LARGE),
    ("customers.xlsx", "xlsx", "application/vnd.ms-excel", 10, SharedFileVerdict.NOT_CSV),
    ("notes.pdf", "pdf", "application/pdf", 10, SharedFileVerdict.NOT_CSV),
    ("screenshot.png", "png", "image/png", 10, SharedFileVerdict.IGNORE),
    ("call.mp4", "mp4", "video/mp4", 10 ** 9, SharedFileVerdict.IGNORE),
])
def test_a_file_shared_in_the_thread_is_judged_by_type_and_size(
    name: str, filetype: str, mimetype: str, size: int, verdict: SharedFileVerdict
) -> None:
    """A CSV up to the limit is imported, past it refused; other documents get an answer;
    screenshots and recordings are left alone."""
    assert judge_shared_file(name, filetype, mimetype, size) is verdict
