"""The staff dashboard grid at /staff: live tables, timers, tickets, close/restore and the
QR-ordering kill switch."""
