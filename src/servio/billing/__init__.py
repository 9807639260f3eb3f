"""Billing: the tax engine (`tax`, pure), what is in force when (`rules`, pure), the pricing
service every bill goes through (`pricing`), coupons and pricing-rule admin, invoices,
splits and credit notes."""
