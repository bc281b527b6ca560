"""berth.adapters.as_of: what a time cut (`as_of=t`) means on the live read models."""
