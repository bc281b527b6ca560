"""Reading a Kafka topic from offsets kept in PostgreSQL, with no consumer group.

The consumer assigns itself every partition of the topic and seeks each to the
next offset stored in `kafka_consumer_offsets`; the caller stores new offsets
after it has handled a batch. One instance runs at a time (the worker's standby
lock), so no group coordination is needed and there is no slow group join.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

log = logging.getLogger(__name__)

Connection = psycopg.Connection[Any]


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    value: bytes


def stored_offsets(conn: Connection, *, consumer: str, topic: str) -> dict[int, int]:
    with conn.transaction():
        rows = conn.execute(
            "SELECT partition, next_offset FROM kafka_consumer_offsets"
            " WHERE consumer = %s AND topic = %s",
            (consumer, topic),
        ).fetchall()
    return {int(p): int(o) for p, o in rows}


def store_offsets(conn: Connection, *, consumer: str, topic: str, offsets: dict[int, int]) -> None:
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO kafka_consumer_offsets (consumer, topic, partition, next_offset)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (consumer, topic, partition)"
            " DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
            [(consumer, topic, p, o) for p, o in offsets.items()],
        )


class TopicReader:
    """Polls one topic from given offsets (earliest where none is stored)."""

    def __init__(self, bootstrap: str, topic: str, *, client_id: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.client_id = client_id
        self._consumer: Any = None

    def open(self, offsets: dict[int, int]) -> bool:
        """Assign the topic's partitions at `offsets`; False if the topic is not there yet."""
        consumer = KafkaConsumer(
            bootstrap_servers=[s.strip() for s in self.bootstrap.split(",") if s.strip()],
            client_id=self.client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=10_000,
        )
        partitions = consumer.partitions_for_topic(self.topic)
        if not partitions:
            consumer.close()
            return False
        assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        for tp in assigned:
            if tp.partition in offsets:
                consumer.seek(tp, offsets[tp.partition])
            else:
                consumer.seek_to_beginning(tp)
        self._consumer = consumer
        return True

    @property
    def is_open(self) -> bool:
        return self._consumer is not None

    def poll(self, *, timeout_ms: int, max_records: int) -> list[Message]:
        assert self._consumer is not None
        batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        messages = [
            Message(tp.partition, record.offset, record.value)
            for tp, records in batches.items()
            for record in records
        ]
        return sorted(messages, key=lambda m: (m.partition, m.offset))

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close()
            except KafkaError as error:
                log.debug("kafka consumer closed with an error: %s", error)
