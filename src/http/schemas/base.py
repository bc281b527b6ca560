"""Base schemas: every input schema refuses unknown fields, and text PostgreSQL cannot hold."""

from marshmallow import fields, validate

from berth.adapters.inputs.fields import BoundedSchema


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
