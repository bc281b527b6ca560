"""Terminal output for long work: progress."""
