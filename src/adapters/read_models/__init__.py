"""The read-model tables: what the projections write and what the queries read."""
