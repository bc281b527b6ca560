"""Base schemas: every input schema refuses unknown fields, and text PostgreSQL cannot hold."""

from functools import cache
from typing import TypeVar

from marshmallow import Schema, fields, validate

from berth.adapters.inputs.fields import BoundedSchema

S = TypeVar("S", bound=Schema)


@cache
def shared(schema: type[S]) -> S:
    """One instance of `schema` per process, reused by every request and thread.

    A marshmallow schema keeps no state between loads or dumps (Berth's set none in
    their hooks). Making one per request deep-copies all its fields and those of each
    nested schema, and each field points back at its schema: cycles that only the
    garbage collector frees, so a read that made five schemas paused for a
    collection every few requests (bench/quotes.py; README, "Quotes").
    """
    return schema()


class Strict(BoundedSchema):
    """Unknown fields, and NUL or lone surrogates anywhere, are refused (400) before loading."""


class NoQuery(Strict):
    """A route that takes no query parameters."""


class Empty(Strict):
    """A command that takes no body (an empty body or `{}`)."""


def min_position() -> fields.Integer:
    return fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=2**63 - 1),
        metadata={"description": "wait (boundedly) until the read model has applied this position"},
    )
