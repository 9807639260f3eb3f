"""Table sessions (seed 004): scan, join, shared cart, close/restore, automations."""
