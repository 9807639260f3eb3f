"""Servio: multi-tenant point-of-sale and QR-ordering platform for hospitality venues."""

__version__ = "0.1.0"
