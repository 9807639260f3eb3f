"""The two-tenant fixtures of the tenancy tests, shared here."""

from tests.platform.conftest import other, world

__all__ = ["other", "world"]
