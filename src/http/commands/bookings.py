"""POST /bookings (hold) and the commands on one booking: confirm, amend, cancel, ..."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import falcon
from eventsourcing.utils import get_topic
from marshmallow import Schema

from berth.adapters import idempotency
from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.booking_commands import UnknownBooking
from berth.domain.cause import Cause
from berth.domain.commanding import CommandResult
from berth.domain.stay import Stay
from berth.http.auth import Caller, caller
from berth.http.commands.execution import CommandRunner
from berth.http.commands.views import as_resource, current
from berth.http.endpoint import ADMIN, BOOKING, FINANCE, GATE_DEVICE, OPERATIONS, Endpoint, roles
from berth.http.preconditions import expected_version, refuse_if_match
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
    version: int | None  # from If-Match
    cause: Cause
    save: dict[str, Any]  # the idempotency record, if any


# The command's result and any extra answer fields (a generated payment or refund id).
Run = Callable[[Call], tuple[CommandResult, dict[str, Any]]]


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

        def act(**save: Any) -> CommandResult:
            return self.app.hold(
                pool_id=body["pool_id"],
                stay=Stay(body["arrival"], body["departure"]),
                quantity=body["quantity"],
                guest=body["guest"],
                plates=body.get("plates", []),
                hold_for=timedelta(minutes=body["hold_minutes"]),
                cause=caller(req).cause(req),
                **save,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.Booking),
            status=201,
            location=lambda r: f"/bookings/{r.id}",
            recover=self._recover,
        )

    def _recover(self, position: int) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            found = idempotency.created_at_or_before(
                conn, position=position, topic=get_topic(Booking.Held)
            )
        return None if found is None else current(self.app, answers.Booking, found)


@dataclass(frozen=True)
class Action:
    endpoint: Endpoint
    run: Run


def _plain(name: str) -> Run:
    """A command that takes nothing but the booking (confirm, check in, ...)."""

    def run(call: Call) -> tuple[CommandResult, dict[str, Any]]:
        command = getattr(call.app, name)
        result: CommandResult = command(
            booking_id=call.booking_id, expected_version=call.version, cause=call.cause, **call.save
        )
        return result, {}

    return run


def _amend(call: Call) -> tuple[CommandResult, dict[str, Any]]:
    result = call.app.amend(
        booking_id=call.booking_id,
        expected_version=call.version,
        cause=call.cause,
        **call.body,
        **call.save,
    )
    return result, {}


def _cancel(call: Call) -> tuple[CommandResult, dict[str, Any]]:
    result = call.app.cancel(
        booking_id=call.booking_id,
        reason=call.body["reason"],
        expected_version=call.version,
        cause=call.cause,
        **call.save,
    )
    return result, {}


def _pay(call: Call) -> tuple[CommandResult, dict[str, Any]]:
    body = call.body
    payment_id = body.get("payment_id") or str(uuid4())
    result = call.app.record_payment(
        booking_id=call.booking_id,
        amount=body["amount"],
        currency=body["currency"],
        method=body["method"],
        payment_id=payment_id,
        expected_version=call.version,
        cause=call.cause,
        **call.save,
    )
    return result, {"payment_id": payment_id}


def _refund(call: Call) -> tuple[CommandResult, dict[str, Any]]:
    body = call.body
    refund_id = body.get("refund_id") or str(uuid4())
    result = call.app.request_refund(
        booking_id=call.booking_id,
        amount=body["amount"],
        currency=body["currency"],
        reason=body["reason"],
        refund_id=refund_id,
        expected_version=call.version,
        cause=call.cause,
        **call.save,
    )
    return result, {"refund_id": refund_id}


def _action(
    summary: str,
    allowed: frozenset[str],
    body: type[Schema],
    run: Run,
    response: type[Schema] = answers.Booking,
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
    return Action(endpoint, run)


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
    ),
    "refunds": _action(
        "Request a refund",
        roles(BOOKING, FINANCE, OPERATIONS, ADMIN),
        commands.RequestRefund,
        _refund,
        answers.RefundAnswer,
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
        version = expected_version(req)
        extra: dict[str, Any] = {}
        schema = self.action.endpoint.response or answers.Booking

        def act(**save: Any) -> CommandResult:
            result, found = self.action.run(
                Call(
                    app=self.app,
                    booking_id=booking_id,
                    body=req.context.body,
                    version=version,
                    cause=who.cause(req),
                    save=save,
                )
            )
            extra.update(found)
            return result

        def answer(result: CommandResult) -> dict[str, Any]:
            # `extra` (a payment's or refund's id) is known only once `act` has run.
            return as_resource(self.app, schema, **extra)(result)

        self.runner.run(
            req,
            resp,
            act=act,
            render=answer,
            subject=booking_id,
            recover=lambda _: current(self.app, schema, booking_id),
        )


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

        def act(**save: Any) -> CommandResult:
            return self.app.settle_refund(
                booking_id=booking_id,
                refund_id=refund_id,
                succeeded=body["succeeded"],
                reason=body["reason"],
                cause=who.cause(req),
                **save,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.RefundAnswer, refund_id=refund_id),
            subject=booking_id,
            recover=lambda _: current(self.app, answers.RefundAnswer, booking_id),
        )
