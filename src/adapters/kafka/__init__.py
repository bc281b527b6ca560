"""Kafka in and out: the relay's records and producer, the gate-read consumer."""
