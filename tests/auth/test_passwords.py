"""Password hashing: the production cost, and hashes upgraded when that cost rises.

The suite hashes at the lowest argon2 cost (tests/conftest.py); these tests check what
production uses and that a hash made at an older, weaker cost is replaced at login.
"""

from __future__ import annotations

import httpx
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from servio.auth import passwords
from servio.kit.db import Database
from servio.models import StaffUser
from tests.conftest import PRODUCTION_HASHER
from tests.fixtures.auth import DEFAULT_PASSWORD, make_staff
from tests.fixtures.factories import make_tenant


def test_production_hashing_meets_the_owasp_argon2id_minimum() -> None:
    # OWASP Password Storage Cheat Sheet / ASVS 5.0 V11.4.2: argon2id, m >= 19 MiB, t >= 2.
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2
    assert PRODUCTION_HASHER.parallelism >= 1


def test_a_hash_verifies_only_its_own_secret() -> None:
    stored = passwords.hash_secret("correct horse")
    assert passwords.verify_secret(stored, "correct horse")
    assert not passwords.verify_secret(stored, "correct hose")
    assert not passwords.verify_secret("not-a-hash", "correct horse")
    assert passwords.needs_rehash("not-a-hash")


async def test_login_upgrades_a_hash_made_at_a_weaker_cost(
    db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    weaker = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(DEFAULT_PASSWORD)
    assert passwords.needs_rehash(weaker)
    async with db.unit_of_work(bypass_rls=True) as uow:
        row = await uow.session.get(StaffUser, owner.id)
        assert row is not None
        row.password_hash = weaker

    reply = await client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": DEFAULT_PASSWORD}
    )

    assert reply.status_code == 200, reply.text
    async with db.unit_of_work(bypass_rls=True) as uow:
        stored = (
            await uow.session.execute(
                select(StaffUser.password_hash).where(StaffUser.id == owner.id)
            )
        ).scalar_one()
    assert stored is not None
    assert stored != weaker
    assert not passwords.needs_rehash(stored)
    assert passwords.verify_secret(stored, DEFAULT_PASSWORD)
