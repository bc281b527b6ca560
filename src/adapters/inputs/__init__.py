"""Bounded input types shared by every inlet (HTTP, Kafka, CLI)."""
