"""Read queries of the ledger: balances, trial balance, journal pages and export, revenue.

Plain SQL over `ledger_journal`; amounts are signed (debit positive). Balances
are shown both ways: the debit and credit totals, and the balance as the account
shows it (assets debit-positive, liabilities and revenue credit-positive).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from berth.adapters.read_models.ledger_rows import JOURNAL_COLUMNS, entries_from_rows
from berth.projections.ledger_books import REVENUE, Account, Entry, natural

Connection = psycopg.Connection[Any]
MAX_PAGE = 500
EXPORT_BATCH = 2000


@dataclass(frozen=True, kw_only=True)
class JournalFilter:
    facility_id: UUID | None = None
    account: str | None = None
    booking_id: UUID | None = None
    first: date | None = None  # business dates, inclusive
    last: date | None = None

    def where(self) -> tuple[sql.Composable, list[Any]]:
        filters: list[sql.Composable] = []
        params: list[Any] = []
        for column, operator, value in (
            ("facility_id", "=", self.facility_id),
            ("account", "=", self.account),
            ("booking_id", "=", self.booking_id),
            ("business_date", ">=", self.first),
            ("business_date", "<=", self.last),
        ):
            if value is not None:
                filters.append(
                    sql.SQL("{} {} %s").format(sql.Identifier(column), sql.SQL(operator))
                )
                params.append(value)
        return (sql.SQL(" AND ").join(filters) if filters else sql.SQL("TRUE")), params


def facility_currency(conn: Connection, facility_id: UUID) -> tuple[bool, str | None]:
    """Whether the ledger knows the facility, and its currency (None before its first pool)."""
    row = conn.execute(
        "SELECT currency FROM ledger_facilities WHERE facility_id = %s", (facility_id,)
    ).fetchone()
    return (row is not None, row[0] if row else None)


def balances(
    conn: Connection, *, facility_id: UUID, as_of: date | None = None, position: int | None = None
) -> list[dict[str, Any]]:
    """Every account of the chart with its debits, credits and balance, as of a date or position."""
    rows = conn.execute(
        "SELECT account, COALESCE(SUM(amount) FILTER (WHERE amount > 0), 0),"
        " COALESCE(-SUM(amount) FILTER (WHERE amount < 0), 0)"
        " FROM ledger_journal WHERE facility_id = %s"
        " AND (%s::date IS NULL OR business_date <= %s::date)"
        " AND (%s::bigint IS NULL OR position <= %s::bigint)"
        " GROUP BY account",
        (facility_id, as_of, as_of, position, position),
    ).fetchall()
    found = {account: (int(debits), int(credits)) for account, debits, credits in rows}
    result = []
    for account in Account:
        debits, credits = found.get(account.value, (0, 0))
        result.append(
            {
                "account": account.value,
                "normal_side": "debit" if natural(account, 1) == 1 else "credit",
                "debits": debits,
                "credits": credits,
                "balance": natural(account, debits - credits),
            }
        )
    return result


def journal_page(
    conn: Connection, where: JournalFilter, *, after: tuple[int, int, int] | None, limit: int
) -> tuple[list[dict[str, Any]], tuple[int, int, int] | None]:
    """Journal lines in posting order after the cursor, and the next cursor (None at the end)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
    condition, params = where.where()
    if after is not None:
        condition = sql.SQL("{} AND (position, seq, line_no) > (%s, %s, %s)").format(condition)
        params += list(after)
    query = sql.SQL(
        "SELECT {} FROM ledger_journal WHERE {} ORDER BY position, seq, line_no LIMIT %s"
    ).format(sql.SQL(", ").join(map(sql.Identifier, JOURNAL_COLUMNS)), condition)
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    lines = [dict(zip(JOURNAL_COLUMNS, row, strict=True)) for row in rows[:limit]]
    if len(rows) > limit:
        last = lines[-1]
        return lines, (int(last["position"]), int(last["seq"]), int(last["line_no"]))
    return lines, None


def journal_export(conn: Connection, where: JournalFilter) -> Iterator[tuple[Any, ...]]:
    """Every matching line in posting order, read through a server-side cursor."""
    condition, params = where.where()
    query = sql.SQL(
        "SELECT {} FROM ledger_journal WHERE {} ORDER BY position, seq, line_no"
    ).format(sql.SQL(", ").join(map(sql.Identifier, JOURNAL_COLUMNS)), condition)
    with conn.transaction(), conn.cursor(name="ledger_journal_export") as cur:
        cur.itersize = EXPORT_BATCH
        cur.execute(query, params)
        yield from cur


def booking_entries(
    conn: Connection, booking_id: UUID
) -> tuple[dict[str, Any], list[Entry]] | None:
    """The booking's ledger row (facility, reference, currency, status) and its entries."""
    booking = conn.execute(
        "SELECT facility_id, reference, currency, status, total FROM ledger_bookings"
        " WHERE booking_id = %s",
        (booking_id,),
    ).fetchone()
    if booking is None:
        return None
    rows = conn.execute(
        sql.SQL(
            "SELECT {} FROM ledger_journal WHERE entry_id IN"
            " (SELECT entry_id FROM ledger_journal WHERE booking_id = %s)"
            " ORDER BY position, seq, line_no"
        ).format(sql.SQL(", ").join(map(sql.Identifier, JOURNAL_COLUMNS))),
        (booking_id,),
    ).fetchall()
    keys = ("facility_id", "reference", "currency", "status", "total")
    return dict(zip(keys, booking, strict=True)), entries_from_rows(rows)


def revenue(
    conn: Connection, *, facility_id: UUID, first: date, last: date
) -> list[dict[str, Any]]:
    """Per business date from `first` to `last`: each revenue account's and tax's net movement."""
    accounts = [a.value for a in (*REVENUE, Account.TAX_PAYABLE)]
    rows = conn.execute(
        "SELECT business_date, account, -SUM(amount) FROM ledger_journal"
        " WHERE facility_id = %s AND business_date BETWEEN %s AND %s AND account = ANY(%s)"
        " GROUP BY business_date, account ORDER BY business_date",
        (facility_id, first, last, accounts),
    ).fetchall()
    days: dict[date, dict[str, int]] = {}
    for day, account, amount in rows:
        days.setdefault(day, dict.fromkeys(accounts, 0))[account] = int(amount)
    return [
        {
            "date": day,
            "accounts": amounts,
            "revenue": sum(amounts[a.value] for a in REVENUE),
        }
        for day, amounts in sorted(days.items())
    ]


def entry_facility(conn: Connection, entry_id: UUID) -> UUID | None:
    row = conn.execute(
        "SELECT facility_id FROM ledger_journal WHERE entry_id = %s LIMIT 1", (entry_id,)
    ).fetchone()
    return row[0] if row else None
