"""GET /ledger/...: balances, trial balance, journal (JSON pages and CSV), statements, revenue."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.as_of import time_marks
from berth.adapters.read_models import ledger_queries, queries
from berth.adapters.read_models.ledger_queries import JournalFilter
from berth.adapters.read_models.ledger_rows import JOURNAL_COLUMNS
from berth.domain.booking_commands import UnknownBooking
from berth.domain.catalog_commands import UnknownFacility
from berth.http import paging
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, AUDITOR, BOOKING, FINANCE, Endpoint, roles
from berth.http.queries.reads import Query
from berth.http.schemas import ledger as schemas
from berth.http.schemas.base import shared
from berth.http.schemas.queries import Consistent
from berth.projections.ledger import NAME
from berth.projections.statement import statement

READERS = roles(FINANCE, AUDITOR, ADMIN)
CSV_FLUSH = 64 * 1024


def _known_facility(conn: Any, facility_id: UUID) -> str | None:
    known, currency = ledger_queries.facility_currency(conn, facility_id)
    if not known:
        raise UnknownFacility(f"no facility {facility_id} in the ledger")
    return currency


def _filter(query: dict[str, Any]) -> JournalFilter:
    return JournalFilter(
        facility_id=query.get("facility_id"),
        account=query.get("account"),
        booking_id=query.get("booking_id"),
        first=query.get("first"),
        last=query.get("last"),
    )


class LedgerQuery(Query):
    projections = (NAME,)


class BalancesResource(LedgerQuery):
    """GET /ledger/accounts and GET /ledger/trial-balance."""

    def __init__(self, *args: Any, trial: bool) -> None:
        super().__init__(*args)
        self.trial = trial
        summary = (
            "Trial balance of a facility: debits and credits per account, checked equal"
            if trial
            else "Balance of every account of a facility, as of a business date or a position"
        )
        self.endpoints = {
            "GET": Endpoint(
                summary=summary,
                tag="ledger",
                roles=READERS,
                query=schemas.AsOfQuery,
                response=schemas.TrialBalance if trial else schemas.Balances,
            )
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        as_of, business_date = query.get("as_of"), query.get("business_date")
        if isinstance(as_of, date) and not isinstance(as_of, datetime):
            business_date = as_of  # the earlier meaning of a bare date
        cut, through = query.get("position"), None
        with self.consistent(req) as conn:
            currency = _known_facility(conn, query["facility_id"])
            if isinstance(as_of, datetime):
                cut = through = time_marks.last_position_before(conn, as_of)
            accounts = ledger_queries.balances(
                conn, facility_id=query["facility_id"], as_of=business_date, position=cut
            )
        body: dict[str, Any] = {
            "facility_id": query["facility_id"],
            "currency": currency,
            "as_of": None if as_of is None else as_of.isoformat(),
            "business_date": business_date,
            "position": query.get("position"),
            "through_position": through,
            "accounts": accounts,
        }
        if not self.trial:
            resp.media = shared(schemas.Balances).dump(body)
            return
        debits = sum(a["debits"] for a in accounts)
        credits = sum(a["credits"] for a in accounts)
        body.update(total_debits=debits, total_credits=credits, balanced=debits == credits)
        resp.media = shared(schemas.TrialBalance).dump(body)


class JournalResource(LedgerQuery):
    endpoints = {
        "GET": Endpoint(
            summary="Journal lines in posting order, filtered, a page at a time",
            tag="ledger",
            roles=READERS,
            query=schemas.JournalQuery,
            response=schemas.JournalPage,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        cursor = query.get("cursor")
        after = None
        if cursor:
            key = paging.after(cursor, legacy=_dotted, check=_line_key)
            after = (key[0], key[1], key[2])
        with self.consistent(req) as conn:
            if query.get("facility_id"):
                _known_facility(conn, query["facility_id"])
            lines, following = ledger_queries.journal_page(
                conn, _filter(query), after=after, limit=query["limit"]
            )
        key = list(following) if following else None
        resp.media = shared(schemas.JournalPage).dump({"lines": lines} | paging.page(req, key))


def _line_key(key: Any) -> bool:
    return isinstance(key, list) and len(key) == 3 and all(paging.whole(k) for k in key)


def _dotted(cursor: str) -> list[int] | None:
    """A cursor as the journal answered before: `position.seq.line_no`."""
    if not re.fullmatch(schemas.CURSOR, cursor):
        return None
    return [int(part) for part in cursor.split(".")]


class JournalCsvResource(LedgerQuery):
    endpoints = {
        "GET": Endpoint(
            summary="The journal as CSV for an accounting package, streamed",
            tag="ledger",
            roles=READERS,
            query=schemas.JournalFilters,
        )
    }
    HEADER = (
        "entry_id", "line_no", "business_date", "posted_at", "facility_id", "kind", "account",
        "debit", "credit", "currency", "booking_id", "reverses", "stream_id", "version",
        "position", "description",
    )  # fmt: skip

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.consistent(req) as conn:
            if query.get("facility_id"):
                _known_facility(conn, query["facility_id"])
        resp.content_type = "text/csv; charset=utf-8"
        resp.downloadable_as = "journal.csv"
        resp.stream = self.rows(_filter(query))

    def rows(self, where: JournalFilter) -> Iterator[bytes]:
        """The CSV in chunks of about 64 KiB, read from a server-side cursor as it goes."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.HEADER)
        with self.services.pool.connection() as conn:
            for row in ledger_queries.journal_export(conn, where):
                line = dict(zip(JOURNAL_COLUMNS, row, strict=True))
                amount = int(line["amount"])
                line.update(debit=max(amount, 0), credit=max(-amount, 0))
                writer.writerow(["" if line[c] is None else line[c] for c in self.HEADER])
                if buffer.tell() >= CSV_FLUSH:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode()


class StatementResource(Query):
    """A booking key reads the statements of its own channel's bookings only.

    The channel is the bookings read model's, so `min_position` waits for that
    projection too.
    """

    projections = (NAME, "bookings")
    endpoints = {
        "GET": Endpoint(
            summary="A booking's statement: charges, payments, refunds, corrections, balance due "
            "(a booking key: its own channel's bookings)",
            tag="ledger",
            roles=roles(*READERS, BOOKING),
            query=Consistent,
            response=schemas.Statement,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        who = caller(req)
        with self.consistent(req) as conn:
            found = ledger_queries.booking_entries(conn, booking_id)
            if found is not None and who.role == BOOKING:
                row = queries.booking(conn, booking_id)
                if row is None or not who.sees(
                    channel=row["channel"], facility_id=row["facility_id"]
                ):
                    found = None
        if found is None:
            raise UnknownBooking(f"no booking {booking_id} in the ledger")
        booking, entries = found
        said = statement(booking_id, entries)
        resp.media = shared(schemas.Statement).dump(
            booking
            | {
                "booking_id": booking_id,
                "lines": [
                    {
                        "entry_id": line.entry.entry_id,
                        "kind": line.entry.kind,
                        "category": line.category,
                        "business_date": line.entry.business_date,
                        "posted_at": line.entry.posted_at,
                        "description": line.entry.description,
                        "amount": line.amount,
                        "reverses": line.entry.reverses,
                    }
                    for line in said.lines
                ],
                "charges": said.charges,
                "payments": said.payments,
                "refunds": said.refunds,
                "corrections": said.corrections,
                "balance_due": said.balance_due,
                "receivable": said.receivable,
                "refunds_payable": said.refunds_payable,
            }
        )


class RevenueResource(LedgerQuery):
    endpoints = {
        "GET": Endpoint(
            summary="Revenue per business date by account (net of tax), and the tax",
            tag="ledger",
            roles=READERS,
            query=schemas.RevenueQuery,
            response=schemas.Revenue,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.consistent(req) as conn:
            currency = _known_facility(conn, query["facility_id"])
            days = ledger_queries.revenue(
                conn, facility_id=query["facility_id"], first=query["first"], last=query["last"]
            )
        resp.media = shared(schemas.Revenue).dump(
            {"facility_id": query["facility_id"], "currency": currency, "days": days}
        )
