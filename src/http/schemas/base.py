"""Base schemas: every input schema refuses unknown fields."""

from marshmallow import RAISE, Schema, fields, validate


class Strict(Schema):
    class Meta:
        unknown = RAISE


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
