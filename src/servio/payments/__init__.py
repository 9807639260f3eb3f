"""Payments against invoices (PAY-01…03): cash, card token, UPI with UTR, gateway
(Stripe / Razorpay) with verified webhooks, and PIN-approved refunds."""
