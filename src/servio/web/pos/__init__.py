"""The staff POS screen at /pos: order entry, open tickets."""
