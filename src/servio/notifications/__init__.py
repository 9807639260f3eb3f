"""Notifications: delivery channels (console now; webhook, email, WhatsApp/SMS later) behind
one `Channel` protocol. Deliveries are driven by the worker from the outbox."""
