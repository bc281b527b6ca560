"""Read-model queries only the staff screen asks: search, the live gate feed, the audit preview."""
