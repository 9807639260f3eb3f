"""Cash drawers (PAY-04): a shift on a drawer opens with a float, takes cash sales and
refunds (from payments) and cash in/out movements, and closes with the counted amount."""
