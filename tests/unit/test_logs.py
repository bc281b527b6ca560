"""Log lines as JSON: one object a line, with the context bound for the request or command."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from berth import config, logs


def record(message: str, *, exc_info: object = None, **kwargs: object) -> logging.LogRecord:
    return logging.getLogger("berth.test").makeRecord(
        "berth.test", logging.WARNING, __file__, 1, message, (), exc_info, **kwargs  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_line_is_one_json_object_with_the_bound_context() -> None:
    with logs.context(request_id="req-1", correlation_id="corr-1"):
        logs.bind(principal="key-9")
        line = logs.JsonFormatter().format(record("held %s", extra={"fields": {"status": 201}}))
    outside = json.loads(logs.JsonFormatter().format(record("after")))

    parsed = json.loads(line)
    assert "\n" not in line
    assert parsed["message"] == "held %s"
    assert (parsed["level"], parsed["logger"]) == ("WARNING", "berth.test")
    assert (parsed["request_id"], parsed["correlation_id"]) == ("req-1", "corr-1")
    assert (parsed["principal"], parsed["status"]) == ("key-9", 201)
    assert parsed["time"].endswith("+00:00")
    assert "request_id" not in outside and "principal" not in outside


def test_an_exception_stays_inside_its_line() -> None:
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        line = logs.JsonFormatter().format(record("failed", exc_info=sys.exc_info()))

    assert len(line.splitlines()) == 1
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_text_on_a_terminal_json_elsewhere_unless_told() -> None:
    assert logs.wants_json(config.load({"BERTH_LOG_FORMAT": "json"}))
    assert not logs.wants_json(config.load({"BERTH_LOG_FORMAT": "text"}))
    assert logs.wants_json(config.load({"BERTH_LOG_FORMAT": "text"}), forced=True)


def test_the_handler_writes_to_the_stderr_of_the_moment_not_a_closed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A test's capture is closed after it; a worker thread logging later must not fail."""
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logs.setup(config.load({"BERTH_LOG_FORMAT": "json"}))
    root = logging.getLogger()
    try:
        first.close()
        now = io.StringIO()
        monkeypatch.setattr(sys, "stderr", now)
        errors: list[str] = []
        monkeypatch.setattr(logging.Handler, "handleError", lambda self, r: errors.append(r.msg))

        logging.getLogger("berth.test").warning("after the first stream closed")

        assert errors == []
        assert json.loads(now.getvalue())["message"] == "after the first stream closed"
    finally:
        for handler in [h for h in root.handlers if isinstance(h, logs._Handler)]:
            root.removeHandler(handler)
