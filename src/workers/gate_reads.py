"""`berth worker gate-reads`: plate reads from a Kafka topic, recorded like webhook reads.

Vendor gateways that publish reads to Kafka (topic `BERTH_KAFKA_GATE_READS_TOPIC`,
default `berth.gate-reads`; each message a JSON plate read plus its `gate_id`)
feed the same command as the webhook: a read is recorded once per (facility of
its gate, read id), so a read arriving both ways, or again after a crash, is
stored once; a read id reused for another read is refused, logged and skipped. A message
that is not a valid read, or names an unknown gate, is logged with its offset
and skipped. Offsets are kept in PostgreSQL and advance after each batch. One
instance is active; others stand by on its advisory lock. Without
BERTH_KAFKA_BOOTSTRAP the worker says so and idles.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from uuid import UUID, uuid4

import psycopg
from kafka.errors import KafkaError
from marshmallow import ValidationError

from berth.adapters.kafka import kafka_consumer
from berth.adapters.kafka.kafka_producer import BOOTSTRAP_VAR
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.postgres.standby_lock import StandbyLock
from berth.adapters.read_models import plate_reads
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.error import DomainError
from berth.domain.gate_commands import UnknownGate

log = logging.getLogger(__name__)

NAME = "gate-reads"
TOPIC_VAR = "BERTH_KAFKA_GATE_READS_TOPIC"
DEFAULT_TOPIC = "berth.gate-reads"
BATCH = 200


def cause_for(message: kafka_consumer.Message, topic: str) -> Cause:
    request_id = str(uuid4())
    return Cause(
        principal=f"kafka:{topic}/{message.partition}@{message.offset}",
        channel="gate_device",
        request_id=request_id,
        correlation_id=request_id,
    )


def handle(
    app: Reservations, conn: psycopg.Connection[object], message: kafka_consumer.Message, topic: str
) -> None:
    """Record one message's read; log and skip what cannot be a read."""
    where = f"{topic}/{message.partition}@{message.offset}"
    try:
        data = json.loads(message.value)
        gate_id = UUID(str(data.pop("gate_id")))
        read = plate_reads.PlateReadPayload().load(data)
        gate = app.gate(gate_id)
        outcome = plate_reads.record(
            app, conn, gate=gate, read=read, cause=cause_for(message, topic)
        )
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as error:
        log.warning("gate-reads: skipped %s, not a valid read: %s", where, error)
    except UnknownGate as error:
        log.warning("gate-reads: skipped %s: %s", where, error)
    except DomainError as error:
        log.warning("gate-reads: skipped %s, refused: %s", where, error)
    else:
        log.info(
            "gate-reads: %s read %s -> %s (%s)%s", where, outcome.read_id,
            "open" if outcome.open else "deny", outcome.reason,
            " duplicate" if outcome.duplicate else "",
        )  # fmt: skip


def consume(url: str, bootstrap: str, topic: str, stop: threading.Event) -> None:
    lock = StandbyLock(url, f"worker:{NAME}")
    if not lock.acquire(stop):
        return
    app = open_reservations(url)
    reader = kafka_consumer.TopicReader(bootstrap, topic, client_id=f"berth-{NAME}")
    backoff = 0.5
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    if not reader.is_open:
                        offsets = kafka_consumer.stored_offsets(conn, consumer=NAME, topic=topic)
                        if not reader.open(offsets):
                            stop.wait(1.0)  # the topic does not exist yet
                            continue
                    messages = reader.poll(timeout_ms=500, max_records=BATCH)
                except KafkaError as error:
                    log.warning("gate-reads: broker error, retrying in %.1f s: %s", backoff, error)
                    reader.close()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff = 0.5
                for message in messages:
                    handle(app, conn, message, topic)
                if messages:
                    done: dict[int, int] = {}
                    for message in messages:
                        done[message.partition] = message.offset + 1
                    kafka_consumer.store_offsets(conn, consumer=NAME, topic=topic, offsets=done)
                lock.check()
    finally:
        reader.close()
        app.close()
        lock.release()


def run(url: str, stop: threading.Event) -> None:
    bootstrap = os.environ.get(BOOTSTRAP_VAR, "").strip()
    if not bootstrap:
        log.info("gate-reads: %s is not set, running without Kafka (idle)", BOOTSTRAP_VAR)
        stop.wait()
        return
    consume(url, bootstrap, os.environ.get(TOPIC_VAR) or DEFAULT_TOPIC, stop)
