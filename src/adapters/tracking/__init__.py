"""Where each projection is in the event store, what failed, what was skipped, and the rebuild's shadow tables."""
