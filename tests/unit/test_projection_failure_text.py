"""What an operator or an error writes about a failed projection is text PostgreSQL can hold."""

from datetime import UTC, datetime

import pytest

from berth.adapters.tracking.projection_failures import describe
from berth.domain.bounds import InvalidText, text_problem
from berth.domain.projection_skip import ProjectionSkip


@pytest.mark.parametrize("reason", ["bell\x07", "nul\x00", "lone \ud800"])
def test_a_skip_reason_postgres_cannot_hold_is_refused(reason: str) -> None:
    with pytest.raises(InvalidText):
        ProjectionSkip.record(
            projection="ledger", position=7, reason=reason, now=datetime.now(UTC), cause={}
        )


def test_a_skip_reason_may_span_lines() -> None:
    skip = ProjectionSkip.record(
        projection="ledger", position=7, reason="bad price\nticket 12", now=datetime.now(UTC),
        cause={},
    )  # fmt: skip
    assert skip.reason == "bad price\nticket 12"


def test_an_error_message_with_a_lone_surrogate_or_nul_is_still_recordable() -> None:
    name, message = describe(ValueError("bad \ud800 value \x00 here"))
    assert name == "ValueError"
    message.encode("utf-8")  # would raise UnicodeEncodeError before
    assert text_problem(message) is None
