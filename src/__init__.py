"""Berth: an event-sourced CQRS reservation engine."""
