"""Guest-facing read models reached through a QR code (the guest menu, MENU-07)."""
