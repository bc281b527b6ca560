-- Inbound Kafka consumers (the gate-reads worker) and the next offset each has to
-- read per partition, kept in PostgreSQL (the source of truth) rather than in a
-- consumer group. An offset advances after its messages were recorded, so a
-- crash re-reads at most a batch; reads are recorded once per read id anyway.

CREATE TABLE kafka_consumer_offsets (
    consumer text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);
