"""The staff bill and cash drawer screens: /staff/bills, /staff/bills/{invoice_id} and /cash."""
