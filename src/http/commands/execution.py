"""Runs a command for a resource: Idempotency-Key, the answer, its ETag and Location.

With an Idempotency-Key, the (API key, Idempotency-Key) pair is locked with a
PostgreSQL advisory lock around lookup, command and completion:

- lock not obtained: the first request is still in flight (409);
- an answer stored with the same request hash: replayed, nothing done (same status and body);
- an answer stored with another request hash: the key was reused for another request (422);
- nothing stored: the command runs, and its record is saved in the command's own
  transaction (with a placeholder body, replaced by the answer right after the commit).

A refused command stores nothing, so a retry runs it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import falcon
import psycopg

from berth.adapters import idempotency
from berth.adapters.eventstore import IdempotencyRecord
from berth.domain.commanding import CommandResult
from berth.http.auth import caller
from berth.http.preconditions import etag
from berth.http.problems import Problem
from berth.http.settings import Services, Settings

IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
_SANE_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

log = logging.getLogger("berth.http")

Act = Callable[..., CommandResult]  # act(**save_kwargs) runs the command
Render = Callable[[CommandResult], dict[str, Any]]  # the answer's body
Recover = Callable[[int], dict[str, Any] | None]  # a body from a position, if a placeholder


@dataclass(frozen=True, kw_only=True)
class Answer:
    status: int
    body: dict[str, Any]
    location: str | None = None


def request_hash(req: falcon.Request) -> str:
    payload = json.dumps(getattr(req.context, "payload", None), sort_keys=True)
    material = "\n".join([req.method, req.path, req.get_header("If-Match") or "", payload])
    return hashlib.sha256(material.encode()).hexdigest()


def _idempotency_key(req: falcon.Request) -> str | None:
    key = req.get_header(IDEMPOTENCY_KEY)
    if key is not None and not _SANE_KEY.match(key):
        raise Problem(
            400,
            "invalid-header",
            "Invalid header",
            f"{IDEMPOTENCY_KEY} must be 1 to 255 printable ASCII characters",
        )
    return key


class CommandRunner:
    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.keep = timedelta(hours=settings.idempotency_hours)

    def run(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        act: Act,
        render: Render,
        status: int = 200,
        location: Callable[[CommandResult], str] | None = None,
        subject: UUID | None = None,
        recover: Recover | None = None,
        atomic: bool = True,
    ) -> None:
        """Run `act` once per Idempotency-Key and answer; `subject` is the id if known.

        With `atomic` (the command's save takes the record), the record is saved in
        the command's transaction. Without it, it is inserted right after the commit:
        a process that dies in between leaves a command a retry will run again.
        """
        key = _idempotency_key(req)
        if key is None:
            result = act()
            _respond(resp, _answer(result, render, status, location))
            return
        key_id = caller(req).key.key_id
        digest = request_hash(req)
        with self.services.pool.connection() as conn, idempotency.claim(conn, key_id, key) as ok:
            if not ok:
                raise Problem(
                    409,
                    "idempotency-key-in-flight",
                    "Request in flight",
                    "a request with this Idempotency-Key is still being processed; retry later",
                    headers={"Retry-After": "1"},
                )
            stored = idempotency.lookup(conn, key_id, key, keep=self.keep)
            if stored is not None:
                _replay(resp, stored, digest, recover)
                return
            if not atomic:
                result = act()
                answer = _answer(result, render, status, location)
                _after_commit(
                    idempotency.store,
                    conn,
                    key_id=key_id,
                    idempotency_key=key,
                    request_hash=digest,
                    status=status,
                    body=_stored_body(answer),
                    position=result.position,
                )
            else:
                placeholder = {
                    idempotency.PLACEHOLDER: True,
                    "id": str(subject) if subject else None,
                }
                record = IdempotencyRecord(
                    key_id=key_id,
                    idempotency_key=key,
                    request_hash=digest,
                    status=status,
                    body=placeholder,
                )
                result = act(idempotency=record)
                answer = _answer(result, render, status, location)
                _after_commit(idempotency.complete, conn, key_id, key, _stored_body(answer))
            _after_commit(idempotency.forget_older_than, conn, self.keep)
        _respond(resp, answer)


def _after_commit(step: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Run a bookkeeping step after the command committed: a lost connection cannot undo it.

    The committed command is answered whatever happens here. An answer not
    completed stays a placeholder, which a retry recovers from its position.
    """
    try:
        step(*args, **kwargs)
    except psycopg.OperationalError as error:
        log.warning("after commit, %s skipped: the database went away: %s", step.__name__, error)


def _answer(
    result: CommandResult,
    render: Render,
    status: int,
    location: Callable[[CommandResult], str] | None,
) -> Answer:
    return Answer(
        status=status, body=render(result), location=location(result) if location else None
    )


def _stored_body(answer: Answer) -> dict[str, Any]:
    if answer.location is None:
        return answer.body
    return {"_location": answer.location, "body": answer.body}


def _replay(
    resp: falcon.Response,
    stored: idempotency.StoredAnswer,
    digest: str,
    recover: Recover | None,
) -> None:
    if stored.request_hash != digest:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "this Idempotency-Key was used for a different request",
        )
    body: dict[str, Any] | None = stored.body
    location = None
    if not stored.complete:
        # The first request's process died between its commit and storing the answer.
        body = recover(stored.position) if recover and stored.position else None
        if body is None:
            body = {"position": stored.position}
    elif "_location" in stored.body:
        location, body = stored.body["_location"], stored.body["body"]
    assert body is not None
    resp.set_header(REPLAYED, "true")
    _respond(resp, Answer(status=stored.status, body=body, location=location))


def _respond(resp: falcon.Response, answer: Answer) -> None:
    resp.status = answer.status
    resp.media = answer.body
    if isinstance(answer.body.get("version"), int):
        resp.set_header("ETag", etag(answer.body["version"]))
    if answer.location:
        resp.location = answer.location
