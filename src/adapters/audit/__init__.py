"""The auditor's tools: the hash chain, exports, history and ledger replays with checkpoints."""
