"""Base schemas: every input schema refuses unknown fields and NUL characters in text."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

NUL = "\x00"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


class Strict(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def no_nul_characters(self, data: Any, **kwargs: Any) -> Any:
        """PostgreSQL text cannot hold U+0000: refuse it here, as invalid input (400)."""
        if isinstance(data, dict):
            errors = {
                str(name): ["text cannot contain NUL (U+0000) characters"]
                for name, value in data.items()
                if _has_nul(name) or _has_nul(value)
            }
            if errors:
                raise ValidationError(errors)
        return data


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
