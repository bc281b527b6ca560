"""Finance over HTTP: night audit, tax rate, reversals, and every /ledger query."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from http_support import Api, Clock, World, hold, problem_type

from berth.http import Services
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner

TODAY = "2030-06-01"  # the clock's date in London
UNKNOWN = "00000000-0000-4000-8000-000000000009"


def project(db_url: str, services: Services) -> None:
    """Run the ledger projection until it has applied the whole log."""
    runner = ProjectionRunner(db_url, PROJECTIONS["ledger"], services.reservations.mapper)
    with psycopg.connect(db_url) as conn:
        runner.catch_up(conn)


@pytest.fixture
def books(api: Api, world: World, db_url: str, services: Services, clock: Clock) -> dict[str, Any]:
    """20% tax; two nights at 12.00 confirmed and paid 30.00; 1 June closed on 2 June; projected."""
    taxed = api.post(f"/pools/{world.pool_id}/tax-rate", {"rate_bp": 2000}, who="finance")
    assert taxed.status_code == 200, taxed.text
    booking = hold(api, world)
    assert api.post(f"/bookings/{booking['id']}/confirm", who="web").status_code == 200
    paid = api.post(
        f"/bookings/{booking['id']}/payments",
        {"amount": 3000, "currency": "EUR", "method": "card"},
        who="operations",
    )
    assert paid.status_code in (200, 201), paid.text
    clock.advance(timedelta(days=1))
    closed = api.post(f"/facilities/{world.facility_id}/days/{TODAY}/close", who="operations")
    assert closed.status_code == 201, closed.text
    project(db_url, services)
    return {"booking_id": booking["id"], "position": closed.json["position"]}


def test_closing_a_day_answers_the_business_day_with_its_position(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    again = api.post(f"/facilities/{world.facility_id}/days/{TODAY}/close", who="admin")
    assert (again.status_code, problem_type(again)) == (409, "day-already-closed")
    today = api.post(f"/facilities/{world.facility_id}/days/2030-06-02/close", who="admin")
    assert (today.status_code, problem_type(today)) == (409, "day-not-over")


def test_the_night_audit_refuses_today_days_before_the_facility_and_days_out_of_order(
    api: Api, world: World, clock: Clock
) -> None:
    def close(day: str) -> tuple[int, str]:
        answer = api.post(f"/facilities/{world.facility_id}/days/{day}/close", who="operations")
        return answer.status_code, problem_type(answer) if answer.status_code >= 400 else ""

    assert close(TODAY) == (409, "day-not-over")  # the facility was registered today
    clock.advance(timedelta(days=5))  # 6 June
    assert close("2000-01-01") == (409, "before-facility-opened")
    assert close("1999-01-01")[0] == 400  # before the supported dates: not a day at all
    assert close("2030-05-31") == (409, "before-facility-opened")
    assert close("2030-06-03") == (201, "")  # the first close: any day since registration
    assert close("2030-06-05") == (409, "previous-day-open")
    assert close("2030-06-01") == (409, "previous-day-open")
    assert close("2030-06-04") == (201, "")
    assert close("2030-06-05") == (201, "")
    assert close("2030-06-06") == (409, "day-not-over")


def test_raising_a_stay_after_its_nights_were_closed_leaves_nothing_deferred(
    api: Api, world: World, db_url: str, services: Services, clock: Clock
) -> None:
    booking = hold(api, world, departure="2030-06-02")  # one night, 12.00
    assert api.post(f"/bookings/{booking['id']}/confirm", who="web").status_code == 200
    clock.advance(timedelta(days=1))
    closed = api.post(f"/facilities/{world.facility_id}/days/{TODAY}/close", who="operations")
    assert closed.status_code == 201, closed.text

    amended = api.post(f"/bookings/{booking['id']}/amend", {"quantity": 2}, who="web")
    assert amended.status_code == 200, amended.text
    project(db_url, services)

    answer = api.get(f"/ledger/accounts?facility_id={world.facility_id}", who="finance")
    balances = {a["account"]: a["balance"] for a in answer.json["accounts"]}
    assert balances["deferred_revenue"] == 0
    assert (balances["accounts_receivable"], balances["stay_revenue"]) == (2400, 2400)
    statement = api.get(f"/ledger/bookings/{booking['id']}/statement", who="finance").json
    assert statement["balance_due"] == 2400


def test_the_trial_balance_shows_equal_debits_and_credits(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    answer = api.get(
        f"/ledger/trial-balance?facility_id={world.facility_id}&min_position={books['position']}",
        who="auditor",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json
    assert body["balanced"] is True
    assert body["total_debits"] == body["total_credits"] == 2400 + 3000 + 1200
    assert body["currency"] == "EUR"


def test_account_balances_as_of_a_date_and_a_position(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    answer = api.get(f"/ledger/accounts?facility_id={world.facility_id}", who="finance")
    balances = {a["account"]: a["balance"] for a in answer.json["accounts"]}
    assert balances == {
        "cash": 3000,
        "accounts_receivable": -600,  # paid 6.00 more than the 24.00 charged
        "deferred_revenue": 1200,
        "stay_revenue": 1000,
        "cancellation_fee_revenue": 0,
        "overstay_revenue": 0,
        "refunds_payable": 0,
        "tax_payable": 200,
    }
    before = api.get(
        f"/ledger/accounts?facility_id={world.facility_id}&as_of=2030-05-31", who="finance"
    )
    assert all(a["balance"] == 0 for a in before.json["accounts"])
    at_close = api.get(
        f"/ledger/accounts?facility_id={world.facility_id}&position={books['position'] - 1}",
        who="finance",
    )
    assert {a["account"]: a["balance"] for a in at_close.json["accounts"]}["stay_revenue"] == 0


def test_the_journal_pages_through_every_line_once_in_posting_order(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    lines: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get(
            f"/ledger/journal?facility_id={world.facility_id}&limit=3{cursor}", who="auditor"
        )
        assert page.status_code == 200, page.text
        lines += page.json["lines"]
        if page.json["next_cursor"] is None:
            break
        cursor = f"&cursor={page.json['next_cursor']}"
    assert [line["kind"] for line in lines] == ["confirmation"] * 2 + ["payment"] * 2 + [
        "recognition"
    ] * 3
    assert sum(line["debit"] for line in lines) == sum(line["credit"] for line in lines)
    assert {line["booking_id"] for line in lines} == {books["booking_id"]}
    only_cash = api.get("/ledger/journal?account=cash", who="auditor").json["lines"]
    assert [(x["account"], x["debit"]) for x in only_cash] == [("cash", 3000)]
    later = api.get("/ledger/journal?from=2030-06-02&to=2030-06-30", who="auditor")
    assert later.json["lines"] == []


def test_the_journal_csv_is_streamed_with_one_row_per_line(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    answer = api.get(f"/ledger/journal.csv?facility_id={world.facility_id}", who="finance")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "journal.csv" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 7
    assert sum(int(r["debit"]) for r in rows) == sum(int(r["credit"]) for r in rows) == 6600


def test_a_statement_shows_charges_payments_and_the_balance_due(
    api: Api, books: dict[str, Any], services: Services
) -> None:
    answer = api.get(f"/ledger/bookings/{books['booking_id']}/statement", who="finance")
    assert answer.status_code == 200, answer.text
    body = answer.json
    assert [line["category"] for line in body["lines"]] == ["charge", "payment"]
    assert (body["charges"], body["payments"], body["balance_due"]) == (2400, 3000, -600)
    booking = services.reservations.booking(books["booking_id"])
    assert body["balance_due"] == booking.balance_due()


def test_daily_revenue_is_net_of_tax_per_business_date(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    answer = api.get(
        f"/ledger/revenue?facility_id={world.facility_id}&from=2030-06-01&to=2030-06-30",
        who="auditor",
    )
    assert answer.status_code == 200, answer.text
    (day,) = answer.json["days"]
    assert day["date"] == TODAY
    assert day["revenue"] == 1000
    assert day["accounts"]["tax_payable"] == 200


def test_reversing_an_entry_posts_a_reversal_once(
    api: Api, books: dict[str, Any], db_url: str, services: Services
) -> None:
    payment = api.get("/ledger/journal?account=cash", who="finance").json["lines"][0]
    path = f"/ledger/entries/{payment['entry_id']}/reverse"

    reversed_ = api.post(path, {"reason": "card charged back"}, who="finance")
    assert reversed_.status_code == 201, reversed_.text
    again = api.post(path, {"reason": "twice"}, who="finance")
    assert (again.status_code, problem_type(again)) == (409, "entry-already-reversed")

    project(db_url, services)
    statement = api.get(f"/ledger/bookings/{books['booking_id']}/statement", who="finance").json
    assert [line["category"] for line in statement["lines"]] == ["charge", "payment", "correction"]
    assert statement["lines"][-1]["reverses"] == payment["entry_id"]
    assert statement["balance_due"] == 2400


@pytest.mark.parametrize(
    ("path", "status", "problem"),
    [
        (f"/ledger/accounts?facility_id={UNKNOWN}", 404, "unknown-facility"),
        (f"/ledger/trial-balance?facility_id={UNKNOWN}", 404, "unknown-facility"),
        (f"/ledger/journal?facility_id={UNKNOWN}", 404, "unknown-facility"),
        (f"/ledger/journal.csv?facility_id={UNKNOWN}", 404, "unknown-facility"),
        (f"/ledger/bookings/{UNKNOWN}/statement", 404, "unknown-booking"),
        ("/ledger/journal?account=petty_cash", 400, "invalid-request"),
        ("/ledger/journal?from=2030-06-03&to=2030-06-01", 400, "invalid-request"),
        ("/ledger/journal.csv?from=2030-06-03&to=2030-06-01", 400, "invalid-request"),
        ("/ledger/journal?cursor=abc", 400, "invalid-cursor"),
        ("/ledger/accounts", 400, "invalid-request"),
        ("/ledger/accounts?facility_id={f}&as_of=2030-06-01&position=3", 400, "invalid-request"),
        ("/ledger/revenue?facility_id={f}&from=2030-06-03&to=2030-06-01", 400, "invalid-request"),
        ("/ledger/revenue?facility_id={f}&from=2030-01-01&to=2031-06-01", 400, "invalid-request"),
    ],
)
def test_bad_ledger_queries_are_clear_4xx(
    api: Api, world: World, books: dict[str, Any], path: str, status: int, problem: str
) -> None:
    answer = api.get(path.format(f=world.facility_id), who="finance")
    assert (answer.status_code, problem_type(answer)) == (status, problem)


@pytest.mark.parametrize("who", ["web", "operations", "gate_device"])
def test_only_finance_auditors_and_admins_read_the_ledger(
    api: Api, world: World, books: dict[str, Any], who: str
) -> None:
    answer = api.get(f"/ledger/trial-balance?facility_id={world.facility_id}", who=who)
    assert (answer.status_code, problem_type(answer)) == (403, "forbidden")


def test_bad_finance_commands_are_clear_4xx(api: Api, world: World) -> None:
    facility = world.facility_id
    cases = [
        (api.post(f"/facilities/{facility}/days/{TODAY}/close", who="finance"), 403, "forbidden"),
        (api.post(f"/facilities/{facility}/days/06-01-2030/close"), 400, "invalid-request"),
        (api.post(f"/facilities/{UNKNOWN}/days/{TODAY}/close"), 404, "unknown-facility"),
        (api.post(f"/pools/{world.pool_id}/tax-rate", {"rate_bp": 10_001}), 400, "invalid-request"),
        (
            api.post(f"/pools/{world.pool_id}/tax-rate", {"rate_bp": 2000}, who="operations"),
            403,
            "forbidden",
        ),
        (api.post(f"/pools/{UNKNOWN}/tax-rate", {"rate_bp": 2000}), 404, "unknown-pool"),
        (api.post(f"/ledger/entries/{UNKNOWN}/reverse", {"reason": "x"}), 404, "unknown-entry"),
        (api.post(f"/ledger/entries/{UNKNOWN}/reverse", {}), 400, "invalid-request"),
    ]
    for answer, status, problem in cases:
        assert (answer.status_code, problem_type(answer)) == (status, problem), answer.text


def test_a_pool_in_another_currency_than_the_facilitys_is_refused(api: Api, world: World) -> None:
    answer = api.post(
        f"/facilities/{world.facility_id}/pools",
        {"name": "Dollars", "capacity": 5, "nightly_price": 1200, "currency": "USD"},
    )
    assert (answer.status_code, problem_type(answer)) == (409, "mixed-currency")


def test_a_ledger_query_waits_for_its_min_position_or_answers_503(
    api: Api, world: World, books: dict[str, Any]
) -> None:
    far = books["position"] + 1000
    answer = api.get(
        f"/ledger/trial-balance?facility_id={world.facility_id}&min_position={far}", who="finance"
    )
    assert (answer.status_code, problem_type(answer)) == (503, "projection-behind")
