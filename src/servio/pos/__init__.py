"""Staff point of sale: staff-entered orders, the order queue, open tickets (ORD-03, ORD-05)."""
