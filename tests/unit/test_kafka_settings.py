"""Kafka settings from the environment: none without a bootstrap, safe producer defaults."""

from __future__ import annotations

from berth.adapters.kafka.kafka_producer import KafkaSettings


def test_without_a_bootstrap_server_berth_runs_without_kafka() -> None:
    assert KafkaSettings.from_environ({}) is None
    assert KafkaSettings.from_environ({"BERTH_KAFKA_BOOTSTRAP": "  "}) is None


def test_the_environment_sets_servers_prefix_and_timeouts() -> None:
    settings = KafkaSettings.from_environ(
        {
            "BERTH_KAFKA_BOOTSTRAP": "k1:9092, k2:9092",
            "BERTH_KAFKA_TOPIC_PREFIX": "acme.",
            "BERTH_KAFKA_REQUEST_TIMEOUT_MS": "2000",
            "BERTH_KAFKA_DELIVERY_TIMEOUT_MS": "9000",
        }
    )
    assert settings is not None
    config = settings.producer_config()
    assert config["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert settings.topic_prefix == "acme."
    assert (config["request_timeout_ms"], config["delivery_timeout_ms"]) == (2000, 9000)
    assert config["max_block_ms"] == config["bootstrap_timeout_ms"] == 2000


def test_the_producer_waits_for_every_replica_and_is_idempotent() -> None:
    settings = KafkaSettings.from_environ({"BERTH_KAFKA_BOOTSTRAP": "k1:9092"})
    assert settings is not None
    config = settings.producer_config()
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is True
    assert config["delivery_timeout_ms"] >= config["request_timeout_ms"] + config["linger_ms"]
