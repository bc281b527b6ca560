"""Read-model SQL for prices: the pools' terms and their rate plans (availability projection)."""
