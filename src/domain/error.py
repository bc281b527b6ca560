"""The base of every refusal the domain gives.

Each concrete error is defined in the module that raises it; this module only
holds the two bases that the HTTP layer maps to status codes in one place.
"""


class DomainError(Exception):
    """A command refused by a business rule (HTTP 409 unless a subclass says otherwise)."""

    code = "rule-violated"


class InvalidCommand(DomainError):
    """A command whose input can never succeed, whatever the state (HTTP 400)."""

    code = "invalid-command"


class NotFound(DomainError):
    """The command names something that does not exist (HTTP 404)."""

    code = "not-found"


class ReusedIdentifier(DomainError):
    """An identifier the client chose came back with a different request (HTTP 422),
    like an Idempotency-Key reused for another body."""

    code = "reused-identifier"
