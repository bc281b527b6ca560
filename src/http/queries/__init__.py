"""Query endpoints: served from read models only, waiting for `min_position` when asked."""
