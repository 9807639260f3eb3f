"""Manager PIN approvals for sensitive actions (STAFF-02): refunds, voids, discount
overrides and drawer no-sales. `service.consume_approval` is what other contexts call."""
