"""The customer CSV: what a spreadsheet opens must never run a helpdesk name as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.customer_csv import CSV_COLUMNS
from bot.domain.customer_csv import customer_csv as csv_text
from bot.domain.records import CustomerRecord, CustomerRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _row(**fields: object) -> CustomerRow:
    values: dict[str, object] = {"helpdesk": "zendesk", "external_id": "101", "name": "Ana Silva",
                                 "email": "ana@example.com", "phone": None,
                                 "organization_name": None, "vip": False, "time_zone": None,
                                 "first_seen_lookup_id": 1}
    values.update(fields)
    return CustomerRow(CustomerRecord(**values),  # type: ignore[arg-type]  # test values
                       ("11",), ("https://x.zendesk.com/11",))


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)",
                                  "\t=1+1", "\r=1+1"])
def test_a_name_that_starts_like_a_formula_gets_a_leading_quote(name: str) -> None:
    """=, +, -, @, tab and CR at the start of a helpdesk value are neutralised with a quote."""
    header, row = _cells(csv_text([_row(name=name, organization_name=name, email=name)]))
    assert header == list(CSV_COLUMNS)
    record = dict(zip(header, row, strict=True))
    for column in ("name", "organization", "email"):
        assert record[column] == "'" + name


def test_ordinary_values_are_unchanged_and_quoting_is_the_csv_module_s() -> None:
    """Plain names, commas and quotes round-trip through the csv module untouched."""
    header, row = _cells(csv_text([_row(name='Silva, "Ana"', organization_name="Acme")]))
    record = dict(zip(header, row, strict=True))
    assert record["name"] == 'Silva, "Ana"' and record["organization"] == "Acme"
    assert record["email"] == "ana@example.com" and record["ticket_ids"] == "11"


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_no_cell_ever_starts_like_a_formula(name: str, organization: str) -> None:
    """Whatever the helpdesk holds, no cell a spreadsheet reads starts with a formula prefix."""
    for row in _cells(csv_text([_row(name=name, organization_name=organization)]))[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
