"""POST /bookings (hold) and the commands on one booking: confirm, amend, cancel, ..."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import falcon

from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.booking_commands import UnknownBooking
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.domain.stay import Stay
from berth.http.auth import Caller, caller
from berth.http.commands.resource import CommandResource, Wiring
from berth.http.commands.views import as_booking
from berth.http.endpoint import Endpoint
from berth.http.schemas import answers


@dataclass(frozen=True, kw_only=True)
class Call:
    """One command on one booking, as the resource received it."""

    app: Reservations
    booking_id: UUID
    body: dict[str, Any]
    ids: dict[str, str]  # from the action's `ids`: the payment or refund id it records
    context: CommandContext  # its cause, the If-Match version and the idempotency record


Run = Callable[[Call], CommandResult]
# The ids a command records that the request may leave to us (a payment's, a refund's):
# chosen before the command runs, and added to its answer.
Ids = Callable[[dict[str, Any]], dict[str, str]]


def no_ids(body: dict[str, Any]) -> dict[str, str]:
    return {}


def chosen_or_new(name: str) -> Ids:
    def ids(body: dict[str, Any]) -> dict[str, str]:
        return {name: body.get(name) or str(uuid4())}

    return ids


def visible_booking(app: Reservations, who: Caller, booking_id: UUID) -> Booking:
    """The booking as last seen, if the caller may see it; another channel's is "not found".

    Its channel and facility never change, so the copy this process last saw (no
    round trip) decides; the command reads the booking again, current, in its
    transaction.
    """
    booking = app.bookings.last_seen(booking_id)
    if not who.sees(channel=booking.channel, facility_id=booking.facility_id):
        raise UnknownBooking(f"no booking {booking_id}")
    return booking


class HoldResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.bookings.hold(
                pool_id=body["pool_id"],
                stay=Stay(body["arrival"], body["departure"]),
                quantity=body["quantity"],
                guest=body["guest"],
                plates=body.get("plates", []),
                hold_for=timedelta(minutes=body["hold_minutes"]),
                rate_plan=body["rate_plan"],
                quoted_total=body.get("quoted_total"),
                accept_price_change=body["accept_price_change"],
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_booking(self.app, answers.Booking),
            status=201,
            location=lambda r: f"/bookings/{r.id}",
        )


@dataclass(frozen=True)
class Action:
    run: Run
    ids: Ids = no_ids


def _plain(name: str) -> Run:
    """A command that takes nothing but the booking (confirm, check in, ...)."""

    def run(call: Call) -> CommandResult:
        command = getattr(call.app.bookings, name)
        result: CommandResult = command(booking_id=call.booking_id, context=call.context)
        return result

    return run


def _amend(call: Call) -> CommandResult:
    return call.app.bookings.amend(
        booking_id=call.booking_id,
        context=call.context,
        **call.body,
    )


def _cancel(call: Call) -> CommandResult:
    return call.app.bookings.cancel(
        booking_id=call.booking_id,
        reason=call.body["reason"],
        context=call.context,
    )


def _pay(call: Call) -> CommandResult:
    body = call.body
    return call.app.bookings.record_payment(
        booking_id=call.booking_id,
        amount=body["amount"],
        currency=body["currency"],
        method=body["method"],
        payment_id=call.ids["payment_id"],
        context=call.context,
    )


def _refund(call: Call) -> CommandResult:
    body = call.body
    return call.app.bookings.request_refund(
        booking_id=call.booking_id,
        amount=body["amount"],
        currency=body["currency"],
        reason=body["reason"],
        refund_id=call.ids["refund_id"],
        context=call.context,
    )


ACTIONS = {
    "confirm": Action(_plain("confirm")),
    "amend": Action(_amend),
    "cancel": Action(_cancel),
    "payments": Action(_pay, chosen_or_new("payment_id")),
    "refunds": Action(_refund, chosen_or_new("refund_id")),
    "check-in": Action(_plain("check_in")),
    "check-out": Action(_plain("check_out")),
    "no-show": Action(_plain("record_no_show")),
}


class BookingActionResource(CommandResource):
    """One command on one booking: POST /bookings/{booking_id}/<action>."""

    def __init__(self, wiring: Wiring, method: str, endpoint: Endpoint, action: Action) -> None:
        super().__init__(wiring, method, endpoint)
        self.action = action
        self.response = endpoint.response or answers.Booking

    def on_post(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        who = caller(req)
        visible_booking(self.app, who, booking_id)
        ids = self.action.ids(req.context.body)

        def act(context: CommandContext) -> CommandResult:
            return self.action.run(
                Call(
                    app=self.app,
                    booking_id=booking_id,
                    body=req.context.body,
                    ids=ids,
                    context=context,
                )
            )

        self.runner.run(req, resp, act=act, render=as_booking(self.app, self.response), extra=ids)


def booking_action(name: str) -> Callable[[Wiring, str, Endpoint], CommandResource]:
    """The resource of the booking action `name` (a key of ACTIONS), for the command table."""

    def make(wiring: Wiring, method: str, endpoint: Endpoint) -> CommandResource:
        return BookingActionResource(wiring, method, endpoint, ACTIONS[name])

    return make


class SettleRefundResource(CommandResource):
    def on_post(
        self, req: falcon.Request, resp: falcon.Response, booking_id: UUID, refund_id: str
    ) -> None:
        who = caller(req)
        visible_booking(self.app, who, booking_id)
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.bookings.settle_refund(
                booking_id=booking_id,
                refund_id=refund_id,
                succeeded=body["succeeded"],
                reason=body["reason"],
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_booking(self.app, answers.RefundAnswer),
            extra={"refund_id": refund_id},
        )
