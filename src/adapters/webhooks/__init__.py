"""Outbound webhooks: subscriptions, their delivery outbox, the signed HTTP send."""
