"""Where each projection is in the event store.

Positions, failures, skips, their administration, and the rebuild's shadow tables.
"""
