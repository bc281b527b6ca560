"""Publishing records to Kafka with every acknowledgement awaited: settings, producer, batches.

The producer is kafka-python's, idempotent with ``acks='all'``: the broker
deduplicates the client's own retries and keeps each partition in order. A
batch is sent whole and then flushed; `publish` returns only when every record
of it is acknowledged by all in-sync replicas, and raises `PublishFailed`
otherwise. After a failure the producer is thrown away and a new one made on the
next batch: kafka-python's idempotent producer does not recover by itself from
expired batches. Without ``BERTH_KAFKA_BOOTSTRAP``, `KafkaSettings.from_environ`
answers None and Berth runs without Kafka.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from berth.adapters.kafka.kafka_records import DEFAULT_TOPIC_PREFIX, Record

log = logging.getLogger(__name__)

BOOTSTRAP_VAR = "BERTH_KAFKA_BOOTSTRAP"
TOPIC_PREFIX_VAR = "BERTH_KAFKA_TOPIC_PREFIX"
REQUEST_TIMEOUT_VAR = "BERTH_KAFKA_REQUEST_TIMEOUT_MS"
DELIVERY_TIMEOUT_VAR = "BERTH_KAFKA_DELIVERY_TIMEOUT_MS"

_FLUSH_SLICE = 0.25  # seconds: how often a waiting flush looks at `stop`


class PublishFailed(Exception):
    """Some record of a batch was not acknowledged; nothing of it counts as published."""


class PublishInterrupted(PublishFailed):
    """Asked to stop before every record of the batch was acknowledged."""


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    client_id: str = "berth-kafka-relay"
    request_timeout_ms: int = 10_000
    delivery_timeout_ms: int = 60_000
    linger_ms: int = 5
    batch_bytes: int = 256 * 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> KafkaSettings | None:
        """The settings in the environment; None when BERTH_KAFKA_BOOTSTRAP is unset."""
        bootstrap = environ.get(BOOTSTRAP_VAR, "").strip()
        if not bootstrap:
            return None
        request = int(environ.get(REQUEST_TIMEOUT_VAR) or cls.request_timeout_ms)
        delivery = int(
            environ.get(DELIVERY_TIMEOUT_VAR) or max(cls.delivery_timeout_ms, 2 * request)
        )
        return cls(
            bootstrap=bootstrap,
            topic_prefix=environ.get(TOPIC_PREFIX_VAR, DEFAULT_TOPIC_PREFIX),
            request_timeout_ms=request,
            delivery_timeout_ms=delivery,
        )

    def producer_config(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": [s.strip() for s in self.bootstrap.split(",") if s.strip()],
            "client_id": self.client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_bytes,
            "request_timeout_ms": self.request_timeout_ms,
            "delivery_timeout_ms": max(
                self.delivery_timeout_ms, self.request_timeout_ms + self.linger_ms
            ),
            # A broker that does not answer must not hold a send or a new producer for long.
            "max_block_ms": self.request_timeout_ms,
            "bootstrap_timeout_ms": self.request_timeout_ms,
            "reconnect_backoff_max_ms": 5_000,
        }


@dataclass(frozen=True)
class InFlight:
    """A sent batch: the producer it went to and one future per record."""

    producer: Any
    futures: list[Any]


class KafkaPublisher:
    """Publishes batches of records; a failed batch raises and is to be sent again whole."""

    def __init__(self, settings: KafkaSettings, *, stop_grace: float = 5.0) -> None:
        self.settings = settings
        self.stop_grace = stop_grace
        self._producer: Any = None

    def publish(self, records: Sequence[Record], stop: threading.Event) -> None:
        """Send every record and wait for all their acknowledgements (`send`, then `wait`)."""
        self.wait(self.send(records), stop)

    def send(self, records: Sequence[Record]) -> InFlight:
        """Hand every record to the producer, without waiting; raises PublishFailed.

        Batches sent one after the other go out in that order, partition by
        partition; a later one may be sent before an earlier one is acknowledged.
        """
        try:
            producer = self._open()
            futures = [
                producer.send(r.topic, key=r.key, value=r.value, headers=r.headers) for r in records
            ]
        except KafkaError as error:
            self._discard()
            raise PublishFailed(f"could not send to Kafka: {error}") from error
        return InFlight(producer, futures)

    def wait(self, batch: InFlight, stop: threading.Event) -> None:
        """Return when every record of `batch` is acknowledged.

        Raises PublishFailed if any record was refused or timed out, and
        PublishInterrupted if `stop` was set and the batch could not finish
        within `stop_grace` seconds. Either way some records may have reached the
        broker, and the producer is discarded (with whatever was sent after the
        batch): the caller sends the batch again (same event ids) or leaves it to
        the next run.
        """
        if batch.producer is not self._producer:
            raise PublishFailed("the producer of this batch was discarded")
        self._await(batch.producer, batch.futures, stop)

    def close(self) -> None:
        self._discard()

    def _open(self) -> Any:
        if self._producer is None:
            self._producer = KafkaProducer(**self.settings.producer_config())
        return self._producer

    def _await(self, producer: Any, futures: list[Any], stop: threading.Event) -> None:
        """Flush until every record is acknowledged; raise as soon as one fails.

        Bounded even when the client is not: after expiring a batch, kafka-python's
        idempotent producer may leave the others unanswered for good, so a batch
        not acknowledged within the delivery timeout (plus a request timeout)
        counts as failed. `stop` cuts the wait to `stop_grace` seconds.
        """
        config = self.settings
        deadline = (
            time.monotonic() + (config.delivery_timeout_ms + config.request_timeout_ms) / 1000
        )
        stopping_since: float | None = None
        while True:
            # A KafkaTimeoutError here only says this slice ran out; the futures say the rest.
            with contextlib.suppress(KafkaError):
                producer.flush(timeout=_FLUSH_SLICE)
            failed = [f for f in futures if f.failed()]
            if failed:
                self._discard()
                raise PublishFailed(
                    f"{len(failed)} of {len(futures)} records not acknowledged:"
                    f" {failed[0].exception}"
                )
            if all(f.is_done for f in futures):
                return
            now = time.monotonic()
            if now > deadline:
                self._discard()
                raise PublishFailed(f"no acknowledgement within {config.delivery_timeout_ms} ms")
            if stop.is_set():
                stopping_since = stopping_since or now
                if now - stopping_since >= self.stop_grace:
                    self._discard()
                    raise PublishInterrupted("stopped before the batch was acknowledged")

    def _discard(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=0)
        except KafkaError as error:
            # kafka-python's close() flushes first and raises before stopping its sender
            # thread when records are still pending; stop that thread as close() would.
            log.debug("kafka producer closed with records pending: %s", error)
            sender = getattr(producer, "_sender", None)
            if sender is not None:
                sender.force_close()
