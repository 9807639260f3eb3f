"""Every table, one module each. Importing this package registers them all on
`Base.metadata`, which is what Alembic compares against."""

from servio.kit.db import Base
from servio.models.approval import Approval
from servio.models.audit_log import AuditLog
from servio.models.auth_session import AuthSession
from servio.models.cart_line import CartLine
from servio.models.cash import CashDrawer, CashMovement, CashSession
from servio.models.coupon import Coupon, CouponCounter, CouponRedemption
from servio.models.daily_pass import DailyPass
from servio.models.feature_flag import FeatureFlag
from servio.models.firing_job import FiringJob
from servio.models.guest_feedback import GuestFeedback
from servio.models.idempotency_key import IdempotencyKey
from servio.models.invoice import Invoice, InvoiceSplit
from servio.models.job import JobHeartbeat, ScheduleRun
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.media_asset import MediaAsset
from servio.models.menu_category import MenuCategory
from servio.models.menu_item import ComboComponent, MenuItem
from servio.models.modifier import ItemModifierGroup, Modifier, ModifierGroup
from servio.models.notification import AlertRule, DeliveryAttempt, WebhookEndpoint
from servio.models.number_sequence import NumberSequence
from servio.models.onboarding import OnboardingSession
from servio.models.open_ticket import OpenTicket
from servio.models.order import Order, OrderLine
from servio.models.outbox import OutboxMessage
from servio.models.outlet import Outlet
from servio.models.payment import GatewayEvent, Payment, Refund
from servio.models.pin_attempt import PinAttempt
from servio.models.prep_time_stat import PrepTimeStat
from servio.models.pricing_rule import PriceList, PricingRule
from servio.models.printer import Printer
from servio.models.provider_admin import ProviderAdmin
from servio.models.qr_pack_export import QrPackExport
from servio.models.receipt_code import ReceiptCode
from servio.models.retired_refresh_token import RetiredRefreshToken
from servio.models.service_point import ServicePoint
from servio.models.session_member import SessionMember
from servio.models.setting import Setting
from servio.models.sla_breach import SlaBreach
from servio.models.staff_user import StaffOutletGrant, StaffUser
from servio.models.system_status import SystemStatus
from servio.models.table_session import TableSession
from servio.models.tenant import Tenant

__all__ = [
    "AlertRule",
    "Approval",
    "AuditLog",
    "AuthSession",
    "Base",
    "CartLine",
    "CashDrawer",
    "CashMovement",
    "CashSession",
    "ComboComponent",
    "Coupon",
    "CouponCounter",
    "CouponRedemption",
    "DailyPass",
    "DeliveryAttempt",
    "FeatureFlag",
    "FiringJob",
    "GatewayEvent",
    "GuestFeedback",
    "IdempotencyKey",
    "Invoice",
    "InvoiceSplit",
    "ItemModifierGroup",
    "JobHeartbeat",
    "KitchenTicket",
    "MediaAsset",
    "MenuCategory",
    "MenuItem",
    "Modifier",
    "ModifierGroup",
    "NumberSequence",
    "OnboardingSession",
    "OpenTicket",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Outlet",
    "Payment",
    "PinAttempt",
    "PrepTimeStat",
    "PriceList",
    "PricingRule",
    "Printer",
    "ProviderAdmin",
    "QrPackExport",
    "ReceiptCode",
    "Refund",
    "RetiredRefreshToken",
    "ScheduleRun",
    "ServicePoint",
    "SessionMember",
    "Setting",
    "SlaBreach",
    "StaffOutletGrant",
    "StaffUser",
    "SystemStatus",
    "TableSession",
    "Tenant",
    "WebhookEndpoint",
]
