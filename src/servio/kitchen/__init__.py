"""The kitchen: KDS tickets and item states, expo, prep-time ETA, the SLA watcher."""
