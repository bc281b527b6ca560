"""POST /bookings (hold) and the commands on one booking: confirm, amend, cancel, ..."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import falcon
from marshmallow import Schema

from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.booking_commands import UnknownBooking
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.domain.stay import Stay
from berth.http.auth import Caller, caller
from berth.http.commands.execution import CommandRunner
from berth.http.commands.views import as_booking
from berth.http.endpoint import ADMIN, BOOKING, FINANCE, GATE_DEVICE, OPERATIONS, Endpoint, roles
from berth.http.preconditions import refuse_if_match
from berth.http.schemas import answers, commands
from berth.http.schemas.base import Empty
from berth.http.settings import Services

SELLERS = roles(BOOKING, OPERATIONS, ADMIN)


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
    """The booking, if the caller may see it; another channel's booking is "not found"."""
    booking = app.booking(booking_id)
    if not who.sees(channel=booking.channel, facility_id=booking.facility_id):
        raise UnknownBooking(f"no booking {booking_id}")
    return booking


class HoldResource:
    endpoints = {
        "POST": Endpoint(
            summary="Hold capacity for a stay (the channel is the API key's)",
            tag="bookings",
            roles=SELLERS,
            body=commands.HoldBooking,
            response=answers.Booking,
            status=201,
            idempotent=True,
        )
    }

    def __init__(self, services: Services, runner: CommandRunner) -> None:
        self.app = services.reservations
        self.pool = services.pool
        self.runner = runner

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_if_match(req)
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.hold(
                pool_id=body["pool_id"],
                stay=Stay(body["arrival"], body["departure"]),
                quantity=body["quantity"],
                guest=body["guest"],
                plates=body.get("plates", []),
                hold_for=timedelta(minutes=body["hold_minutes"]),
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
    endpoint: Endpoint
    run: Run
    ids: Ids = no_ids


def _plain(name: str) -> Run:
    """A command that takes nothing but the booking (confirm, check in, ...)."""

    def run(call: Call) -> CommandResult:
        command = getattr(call.app, name)
        result: CommandResult = command(booking_id=call.booking_id, context=call.context)
        return result

    return run


def _amend(call: Call) -> CommandResult:
    return call.app.amend(
        booking_id=call.booking_id,
        context=call.context,
        **call.body,
    )


def _cancel(call: Call) -> CommandResult:
    return call.app.cancel(
        booking_id=call.booking_id,
        reason=call.body["reason"],
        context=call.context,
    )


def _pay(call: Call) -> CommandResult:
    body = call.body
    return call.app.record_payment(
        booking_id=call.booking_id,
        amount=body["amount"],
        currency=body["currency"],
        method=body["method"],
        payment_id=call.ids["payment_id"],
        context=call.context,
    )


def _refund(call: Call) -> CommandResult:
    body = call.body
    return call.app.request_refund(
        booking_id=call.booking_id,
        amount=body["amount"],
        currency=body["currency"],
        reason=body["reason"],
        refund_id=call.ids["refund_id"],
        context=call.context,
    )


def _action(
    summary: str,
    allowed: frozenset[str],
    body: type[Schema],
    run: Run,
    response: type[Schema] = answers.Booking,
    *,
    ids: Ids = no_ids,
) -> Action:
    endpoint = Endpoint(
        summary=summary,
        tag="bookings",
        roles=allowed,
        body=body,
        response=response,
        conditional=True,
        idempotent=True,
    )
    return Action(endpoint, run, ids)


ACTIONS = {
    "confirm": _action("Confirm a held booking", SELLERS, Empty, _plain("confirm")),
    "amend": _action(
        "Amend dates, quantity, guest or plates", SELLERS, commands.AmendBooking, _amend
    ),
    "cancel": _action("Cancel a booking", SELLERS, commands.CancelBooking, _cancel),
    "payments": _action(
        "Record a payment",
        roles(BOOKING, FINANCE, OPERATIONS, ADMIN),
        commands.RecordPayment,
        _pay,
        answers.PaymentAnswer,
        ids=chosen_or_new("payment_id"),
    ),
    "refunds": _action(
        "Request a refund",
        roles(BOOKING, FINANCE, OPERATIONS, ADMIN),
        commands.RequestRefund,
        _refund,
        answers.RefundAnswer,
        ids=chosen_or_new("refund_id"),
    ),
    "check-in": _action(
        "Check a booking in", roles(OPERATIONS, GATE_DEVICE, ADMIN), Empty, _plain("check_in")
    ),
    "check-out": _action(
        "Check a booking out", roles(OPERATIONS, GATE_DEVICE, ADMIN), Empty, _plain("check_out")
    ),
    "no-show": _action(
        "Record that the guest did not come",
        roles(OPERATIONS, ADMIN),
        Empty,
        _plain("record_no_show"),
    ),
}


class BookingActionResource:
    """One command on one booking: POST /bookings/{booking_id}/<action>."""

    def __init__(self, services: Services, runner: CommandRunner, action: Action) -> None:
        self.app = services.reservations
        self.runner = runner
        self.action = action
        self.endpoints = {"POST": action.endpoint}

    def on_post(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        who = caller(req)
        visible_booking(self.app, who, booking_id)
        schema = self.action.endpoint.response or answers.Booking
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

        self.runner.run(req, resp, act=act, render=as_booking(self.app, schema), extra=ids)


class SettleRefundResource:
    endpoints = {
        "POST": Endpoint(
            summary="Settle a pending refund (succeeded or failed)",
            tag="bookings",
            roles=roles(FINANCE, ADMIN),
            body=commands.SettleRefund,
            response=answers.RefundAnswer,
            idempotent=True,
        )
    }

    def __init__(self, services: Services, runner: CommandRunner) -> None:
        self.app = services.reservations
        self.runner = runner

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, booking_id: UUID, refund_id: str
    ) -> None:
        refuse_if_match(req)
        who = caller(req)
        visible_booking(self.app, who, booking_id)
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.settle_refund(
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
