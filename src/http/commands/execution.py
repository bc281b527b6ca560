"""Runs a command for a resource: Idempotency-Key, the answer, its ETag and Location.

With an Idempotency-Key, the (API key, Idempotency-Key) pair is locked with a
PostgreSQL advisory lock around lookup, command and completion:

- lock not obtained: the first request is still in flight (409);
- an answer stored with the same request hash: replayed, nothing done (same status,
  body byte for byte, ETag and Location);
- an answer stored with another request hash: the key was reused for another request (422);
- nothing stored: the command runs, and its record is saved in the command's own
  transaction, with its position and its subject's id and version, and a
  placeholder body holding the ids the answer adds (a generated payment id); the
  answer replaces the placeholder right after the commit (`Services.store_answer`).

A placeholder found on replay means the first request's process died between its
commit and storing the answer: the answer is rebuilt, the same as it was, from
the subject at the stored version (read from the event store), the stored
position and the stored ids. Answers are written as JSON with sorted keys, so a
replay, stored or rebuilt, is the same bytes as the first answer.

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

import falcon
import psycopg

from berth.adapters.postgres import idempotency
from berth.adapters.postgres.eventstore import IdempotencyRecord
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
# The answer's body from the result alone (its subject may be absent: read it at its version).
Render = Callable[[CommandResult], dict[str, Any]]


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
        self.store_answer = services.store_answer
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
        extra: dict[str, Any] | None = None,
        atomic: bool = True,
    ) -> None:
        """Run `act` once per Idempotency-Key and answer `render(result)` plus `extra`.

        `extra` holds what the answer adds that the command's events need not
        show (a payment id generated for the request): it is kept with the record,
        so a rebuilt answer has the first request's, not a retry's.

        With `atomic` (the command's save takes the record), the record is saved in
        the command's transaction. Without it, it is inserted right after the commit:
        a process that dies in between leaves a command a retry will run again.
        """
        extra = dict(extra or {})
        key = _idempotency_key(req)
        if key is None:
            result = act()
            _respond(resp, _answer(result, render, status, location, extra))
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
                _check_same_request(stored, digest)
                resp.set_header(REPLAYED, "true")
                _respond(resp, _replayed(stored, render, location))
                return
            if not atomic:
                result = act()
                answer = _answer(result, render, status, location, extra)
                _after_commit(
                    idempotency.store,
                    conn,
                    key_id=key_id,
                    idempotency_key=key,
                    request_hash=digest,
                    status=status,
                    body=_stored_body(answer),
                    position=result.position,
                    subject_id=result.id,
                    subject_version=result.version,
                )
            else:
                record = IdempotencyRecord(
                    key_id=key_id,
                    idempotency_key=key,
                    request_hash=digest,
                    status=status,
                    body={idempotency.PLACEHOLDER: True, "extra": extra},
                )
                result = act(idempotency=record)
                answer = _answer(result, render, status, location, extra)
                _after_commit(self.store_answer, conn, key_id, key, _stored_body(answer))
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
        name = getattr(step, "__name__", repr(step))
        log.warning("after commit, %s skipped: the database went away: %s", name, error)


def _answer(
    result: CommandResult,
    render: Render,
    status: int,
    location: Callable[[CommandResult], str] | None,
    extra: dict[str, Any],
) -> Answer:
    return Answer(
        status=status,
        body=render(result) | extra,
        location=location(result) if location else None,
    )


def _stored_body(answer: Answer) -> dict[str, Any]:
    if answer.location is None:
        return answer.body
    return {"_location": answer.location, "body": answer.body}


def _check_same_request(stored: idempotency.StoredAnswer, digest: str) -> None:
    if stored.request_hash != digest:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "this Idempotency-Key was used for a different request",
        )


def _replayed(
    stored: idempotency.StoredAnswer,
    render: Render,
    location: Callable[[CommandResult], str] | None,
) -> Answer:
    """The first answer: as stored, or rebuilt if the first request died after its commit."""
    if stored.complete:
        if "_location" in stored.body:
            body = stored.body["body"]
            return Answer(status=stored.status, body=body, location=stored.body["_location"])
        return Answer(status=stored.status, body=stored.body)
    if stored.subject_id is None or stored.subject_version is None or stored.position is None:
        # A record from before subjects were kept (or of a save that stored no event).
        return Answer(status=stored.status, body={"position": stored.position})
    result = CommandResult(
        id=stored.subject_id, version=stored.subject_version, position=stored.position
    )
    return _answer(result, render, stored.status, location, stored.body.get("extra", {}))


def canonical_json(body: dict[str, Any]) -> str:
    """An answer's bytes: the same for the same body, whatever order its keys came in."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def _respond(resp: falcon.Response, answer: Answer) -> None:
    resp.status = answer.status
    resp.content_type = falcon.MEDIA_JSON
    resp.text = canonical_json(answer.body)
    if isinstance(answer.body.get("version"), int):
        resp.set_header("ETag", etag(answer.body["version"]))
    if answer.location:
        resp.location = answer.location
