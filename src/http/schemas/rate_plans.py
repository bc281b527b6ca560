"""Rate plans and quotes: command bodies, query strings and answers."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from berth.adapters.inputs import fields as bounded
from berth.domain.bounds import MAX_QUANTITY
from berth.domain.pricing import (
    DEFAULT_PLAN,
    MAX_CHANNEL,
    MAX_CHANNELS,
    MAX_CLOSED_DATES,
    MAX_CODE,
    MAX_SEASONS,
    WEEKDAYS,
    PlanTerms,
    Season,
)
from berth.domain.stay import MAX_NIGHTS
from berth.http.schemas.answers import Answer, Cancellation, NightPrice
from berth.http.schemas.base import Strict
from berth.http.schemas.queries import Consistent

CODE_PATTERN = r"^[A-Za-z0-9_-]+$"


def code_field(**kwargs: Any) -> fields.String:
    return bounded.identifier(
        MAX_CODE,
        validate=[validate.Regexp(CODE_PATTERN, error="letters, digits, - and _")],
        **kwargs,
    )


def weekday() -> fields.String:
    return fields.String(validate=validate.OneOf(WEEKDAYS))


class SeasonBody(Strict):
    first_night = bounded.Day(required=True)
    last_night = bounded.Day(required=True, metadata={"description": "inclusive"})
    nightly_price = bounded.money(required=True)


class RatePlanTerms(Strict):
    """A plan's terms: a night costs its season's price, else its weekday's, else the base."""

    name = bounded.text(200, required=True)
    base_price = bounded.money(required=True, metadata={"description": "one unit, one night"})
    seasons = fields.List(
        fields.Nested(SeasonBody), load_default=list, validate=validate.Length(max=MAX_SEASONS)
    )
    weekday_prices = fields.Dict(
        keys=weekday(),
        values=bounded.money(),
        load_default=dict,
        metadata={"description": "price by day of the week (mon..sun), outside seasons"},
    )
    min_stay = bounded.whole(1, MAX_NIGHTS, load_default=1)
    max_stay = bounded.whole(1, MAX_NIGHTS, load_default=MAX_NIGHTS)
    closed_to_arrival_weekdays = fields.List(
        weekday(), load_default=list, validate=validate.Length(max=len(WEEKDAYS))
    )
    closed_to_arrival_dates = fields.List(
        bounded.Day(), load_default=list, validate=validate.Length(max=MAX_CLOSED_DATES)
    )
    channels = fields.List(
        bounded.identifier(MAX_CHANNEL),
        load_default=list,
        validate=validate.Length(max=MAX_CHANNELS),
        metadata={"description": "the channels that may sell it; empty: every channel"},
    )

    @validates_schema
    def stays_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("min_stay", 1) > data.get("max_stay", MAX_NIGHTS):
            raise ValidationError("min_stay cannot be above max_stay", "min_stay")


class CreateRatePlan(RatePlanTerms):
    code = code_field(
        required=True,
        metadata={"description": f"unique per pool; {DEFAULT_PLAN!r} is the pool's own price"},
    )


def terms_of(body: dict[str, Any]) -> PlanTerms:
    """The domain's terms from a loaded `RatePlanTerms` body (it re-checks them)."""
    return PlanTerms(
        base_price=body["base_price"],
        seasons=tuple(Season(**season) for season in body["seasons"]),
        weekday_prices=dict(body["weekday_prices"]),
        min_stay=body["min_stay"],
        max_stay=body["max_stay"],
        closed_to_arrival_weekdays=frozenset(body["closed_to_arrival_weekdays"]),
        closed_to_arrival_dates=frozenset(body["closed_to_arrival_dates"]),
        channels=frozenset(body["channels"]),
    )


class SeasonAnswer(Schema):
    first_night = fields.String(metadata={"format": "date"})
    last_night = fields.String(metadata={"format": "date"})
    nightly_price = fields.Integer()


class TermsAnswer(Schema):
    base_price = fields.Integer()
    seasons = fields.List(fields.Nested(SeasonAnswer))
    weekday_prices = fields.Dict(keys=fields.String(), values=fields.Integer())
    min_stay = fields.Integer()
    max_stay = fields.Integer()
    closed_to_arrival_weekdays = fields.List(fields.String())
    closed_to_arrival_dates = fields.List(fields.String(metadata={"format": "date"}))
    channels = fields.List(fields.String())


class RatePlan(Answer):
    """A rate plan, from the write side (a command's answer) or the read model."""

    id = fields.UUID(required=True)
    pool_id = fields.UUID(required=True)
    facility_id = fields.UUID(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    currency = fields.String(required=True)
    retired = fields.Boolean(required=True)
    terms = fields.Nested(TermsAnswer, required=True)

    @pre_dump
    def as_row(self, plan: Any, **kwargs: Any) -> dict[str, Any]:
        if isinstance(plan, dict):
            return {"id": plan["plan_id"], **plan}
        names = ("id", "pool_id", "facility_id", "code", "name", "currency", "retired", "terms")
        return {name: getattr(plan, name) for name in names} | {"version": plan.version}


class RatePlanList(Schema):
    pool_id = fields.UUID()
    rate_plans = fields.List(fields.Nested(RatePlan))


class QuoteQuery(Consistent):
    pool_id = fields.UUID(required=True)
    arrival = bounded.Day(required=True)
    departure = bounded.Day(required=True)
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_QUANTITY))
    rate_plan = code_field(load_default=DEFAULT_PLAN)

    @validates_schema
    def a_stay(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "arrival" not in data or "departure" not in data:
            return
        nights = (data["departure"] - data["arrival"]).days
        if nights < 1:
            raise ValidationError("departure must be after arrival", "departure")
        if nights > MAX_NIGHTS:
            raise ValidationError(f"a stay is at most {MAX_NIGHTS} nights", "departure")


class QuotedNight(NightPrice):
    remaining = fields.Integer(metadata={"description": "units left that night, as read"})


class Tax(Schema):
    rate_bp = fields.Integer(metadata={"description": "basis points, included in the prices"})
    included = fields.Integer(metadata={"description": "the tax within the total, minor units"})


class Refusal(Schema):
    code = fields.String(
        metadata={
            "description": "no-capacity, minimum-stay, maximum-stay, closed-to-arrival,"
            " channel-not-allowed or rate-plan-retired"
        }
    )
    detail = fields.String()


class QuoteAnswer(Schema):
    pool_id = fields.UUID()
    rate_plan = fields.String()
    arrival = fields.Date()
    departure = fields.Date()
    nights = fields.Integer()
    quantity = fields.Integer()
    currency = fields.String()
    sellable = fields.Boolean()
    reason = fields.Nested(Refusal, metadata={"description": "only when not sellable"})
    total = fields.Integer(metadata={"description": "only when sellable; hold with quoted_total"})
    night_prices = fields.List(fields.Nested(QuotedNight))
    tax = fields.Nested(Tax)
    cancellation = fields.Nested(Cancellation)


class PlanPrice(Schema):
    rate_plan = fields.String()
    price = fields.Integer(metadata={"description": "one unit, this night"})
    closed_to_arrival = fields.Boolean()


class PricedNight(Schema):
    night = fields.Date()
    capacity = fields.Integer()
    held = fields.Integer()
    confirmed = fields.Integer()
    remaining = fields.Integer()
    prices = fields.List(
        fields.Nested(PlanPrice),
        metadata={"description": "under each plan the caller's channel may sell"},
    )


class PricedAvailability(Schema):
    pool_id = fields.UUID()
    currency = fields.String()
    nights = fields.List(fields.Nested(PricedNight))
