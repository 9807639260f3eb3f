"""Menu: categories, items, combos, modifiers, pricing (MENU-01…04, 07)."""
