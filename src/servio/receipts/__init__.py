"""Guest receipts (GUEST-07): a guest lists their recent invoices at an outlet by phone or
e-mail, only after proving the contact with a one-time code sent through the outbox."""
