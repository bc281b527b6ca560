"""Command endpoints: each validates its body, runs one command, answers with the resource."""
