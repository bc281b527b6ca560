"""The field types of every inlet: HTTP schemas, Kafka gate reads and the CLI load values by them.

Each type is a marshmallow field bounded by the limits in `berth.domain.bounds`,
so a value outside them is a validation error (HTTP 400, a skipped Kafka
message, a CLI usage error) and never reaches the domain or the store:

- `money`: integer minor units, 0 (or 1) to MAX_MONEY;
- `whole`: a bounded integer (`quantity`, `capacity`, minutes, percents);
- `Text`: no NUL, lone surrogate or control character (line breaks allowed in
  `multiline` free text), bounded length; `identifier` is one-line text;
- `Day` and `Moment`: dates (and aware times) from FIRST_DATE to LAST_DATE.

`BoundedSchema` refuses unknown fields, and NUL or lone surrogates anywhere
in the payload (unknown keys and nested values included). `argument` turns a
field into an argparse `type=`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from berth.domain import bounds


def whole(minimum: int, maximum: int, **kwargs: Any) -> fields.Integer:
    """An integer (a JSON number, not a string of digits) from `minimum` to `maximum`."""
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=maximum), **kwargs)


def money(*, minimum: int = 0, **kwargs: Any) -> fields.Integer:
    """Integer minor units, `minimum` to MAX_MONEY."""
    metadata = {"description": "minor units", **kwargs.pop("metadata", {})}
    return whole(minimum, bounds.MAX_MONEY, metadata=metadata, **kwargs)


def quantity(**kwargs: Any) -> fields.Integer:
    return whole(1, bounds.MAX_QUANTITY, **kwargs)


def capacity(**kwargs: Any) -> fields.Integer:
    return whole(0, bounds.MAX_CAPACITY, **kwargs)


class Text(fields.String):
    """Text PostgreSQL and every projection can hold, of `minimum` to `maximum` characters."""

    def __init__(
        self, maximum: int, *, minimum: int = 1, multiline: bool = False, **kwargs: Any
    ) -> None:
        validators = [validate.Length(min=minimum, max=maximum)]
        super().__init__(validate=validators + list(kwargs.pop("validate", [])), **kwargs)
        self.multiline = multiline

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = bounds.text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


def text(maximum: int, *, minimum: int = 1, **kwargs: Any) -> Text:
    """One line of text (a name, a method, a reference)."""
    return Text(maximum, minimum=minimum, **kwargs)


def free_text(maximum: int, *, minimum: int = 0, **kwargs: Any) -> Text:
    """Free text that may span lines (a reason, a note)."""
    return Text(maximum, minimum=minimum, multiline=True, **kwargs)


def identifier(maximum: int, **kwargs: Any) -> Text:
    """An id a client chooses (a read id, a camera id, a payment id): one line, not empty."""
    return Text(maximum, minimum=1, **kwargs)


def _in_range(day: date) -> bool:
    problem = bounds.date_problem(day)
    if problem:
        raise ValidationError(problem)
    return True


class Day(fields.Date):
    """An ISO date from FIRST_DATE to LAST_DATE."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=_in_range, **kwargs)


class Moment(fields.AwareDateTime):
    """An ISO time with its UTC offset, on a (local) date from FIRST_DATE to LAST_DATE."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> datetime:
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        _in_range(moment.date())  # so converting it to UTC or any offset cannot overflow
        return moment


def _storable(value: Any) -> bool:
    """False if `value`, or anything in it, is text holding NUL or a lone surrogate."""
    if isinstance(value, str):
        return bounds.storable(value)
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    return True


class BoundedSchema(Schema):
    """Refuses unknown fields, and NUL or lone surrogates anywhere, before any field loads."""

    class Meta:
        unknown = RAISE

    @pre_load
    def storable_text(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            errors = {
                _printable(name): ["text cannot contain NUL (U+0000) or lone surrogates"]
                for name, value in data.items()
                if not (_storable(name) and _storable(value))
            }
            if errors:
                raise ValidationError(errors)
        return data


def _printable(name: Any) -> str:
    """A field name fit for an error answer (JSON-encodable whatever it held)."""
    return str(name).encode("utf-8", "backslashreplace").decode("utf-8")


def argument(field: fields.Field[Any]) -> Callable[[str], Any]:
    """An argparse `type=` that loads a command-line value through `field`."""

    def load(raw: str) -> Any:
        try:
            return field.deserialize(int(raw) if isinstance(field, fields.Integer) else raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
        except ValidationError as error:
            messages = error.messages
            text = "; ".join(messages) if isinstance(messages, list) else str(messages)
            raise argparse.ArgumentTypeError(text) from None

    return load
