"""Every table, one module each. Importing this package registers them all on
`Base.metadata`, which is what Alembic compares against."""

from servio.kit.db import Base
from servio.models.audit_log import AuditLog
from servio.models.auth_session import AuthSession
from servio.models.feature_flag import FeatureFlag
from servio.models.idempotency_key import IdempotencyKey
from servio.models.job import JobHeartbeat, ScheduleRun
from servio.models.outbox import OutboxMessage
from servio.models.outlet import Outlet
from servio.models.pin_attempt import PinAttempt
from servio.models.provider_admin import ProviderAdmin
from servio.models.retired_refresh_token import RetiredRefreshToken
from servio.models.setting import Setting
from servio.models.staff_user import StaffOutletGrant, StaffUser
from servio.models.system_status import SystemStatus
from servio.models.tenant import Tenant

__all__ = [
    "AuditLog",
    "AuthSession",
    "Base",
    "FeatureFlag",
    "IdempotencyKey",
    "JobHeartbeat",
    "OutboxMessage",
    "Outlet",
    "PinAttempt",
    "ProviderAdmin",
    "RetiredRefreshToken",
    "ScheduleRun",
    "Setting",
    "StaffOutletGrant",
    "StaffUser",
    "SystemStatus",
    "Tenant",
]
