"""Orders: placing them (guest and staff), the order state machine and the firing
pipeline to the kitchen or an external POS."""
