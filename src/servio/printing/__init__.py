"""Kitchen printers: ESC/POS KOTs over TCP, health checks, fallback printers, KOT PDFs."""
