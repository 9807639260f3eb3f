"""Admin console pages for setting up an outlet: the onboarding wizard, the menu editor,
tables and QR codes, and the licence usage bars."""
