"""Collects every context's router. Each context exposes `router` from `endpoints.py`."""

from __future__ import annotations

from fastapi import APIRouter


def build_api_router() -> APIRouter:
    from servio.approvals.endpoints import router as approvals_router
    from servio.audit.endpoints import router as audit_router
    from servio.auth.endpoints import router as auth_router
    from servio.billing.coupon_endpoints import router as coupon_router
    from servio.billing.endpoints import router as invoices_router
    from servio.billing.guest_endpoints import router as guest_bill_router
    from servio.billing.pricing_endpoints import router as pricing_router
    from servio.billing.rule_endpoints import router as pricing_rule_router
    from servio.cash.endpoints import router as cash_router
    from servio.daily_pass.endpoints import router as daily_pass_router
    from servio.feedback.endpoints import router as feedback_router
    from servio.floor.endpoints import router as floor_router
    from servio.floor.qrpack_endpoints import router as qrpack_router
    from servio.guest.endpoints import router as guest_router
    from servio.kitchen.endpoints import router as kitchen_router
    from servio.kitchen.sla_endpoints import router as kitchen_sla_router
    from servio.media.endpoints import router as media_router
    from servio.menu.endpoints import router as menu_router
    from servio.notifications.guest_update_endpoints import router as guest_updates_router
    from servio.notifications.integration_endpoints import router as integrations_router
    from servio.notifications.outbox_endpoints import router as outbox_router
    from servio.notifications.rule_endpoints import router as alert_rules_router
    from servio.notifications.webhook_admin_endpoints import router as webhook_admin_router
    from servio.ops.endpoints import router as ops_router
    from servio.ordering.endpoints import router as ordering_router
    from servio.payments.endpoints import router as payments_router
    from servio.payments.guest_endpoints import router as guest_pay_router
    from servio.platform.endpoints import router as platform_router
    from servio.pos.endpoints import router as pos_router
    from servio.printing.endpoints import router as printing_router
    from servio.realtime.endpoints import router as realtime_router
    from servio.receipts.endpoints import router as receipts_router
    from servio.sessions.endpoints import router as sessions_router
    from servio.setup.endpoints import router as setup_router
    from servio.web.billing.endpoints import router as bill_pages_router
    from servio.web.console.endpoints import router as console_router
    from servio.web.console.notification_pages import router as console_notify_router
    from servio.web.console.pricing_pages import router as console_pricing_router
    from servio.web.endpoints import router as web_router
    from servio.web.guest.endpoints import router as guest_app_router
    from servio.web.kds.endpoints import router as kds_pages_router
    from servio.web.pos.endpoints import router as pos_page_router
    from servio.web.staff.endpoints import router as staff_grid_router
    from servio.worker.endpoints import router as worker_router

    root = APIRouter()
    for router in (
        ops_router,
        auth_router,
        platform_router,
        audit_router,
        worker_router,
        alert_rules_router,
        webhook_admin_router,
        outbox_router,
        integrations_router,
        realtime_router,
        qrpack_router,  # before floor_router: /tables/qr-pack.pdf is not a table id
        floor_router,
        guest_router,
        guest_app_router,  # before sessions_router: /t/sw.js is not a QR token
        sessions_router,
        guest_updates_router,
        ordering_router,
        pos_router,
        invoices_router,
        guest_bill_router,
        approvals_router,
        payments_router,
        guest_pay_router,
        pricing_router,
        coupon_router,
        pricing_rule_router,
        cash_router,
        receipts_router,
        kitchen_router,
        kitchen_sla_router,
        printing_router,
        daily_pass_router,
        feedback_router,
        media_router,
        menu_router,
        setup_router,
        web_router,
        console_router,
        console_pricing_router,
        console_notify_router,
        staff_grid_router,
        pos_page_router,
        kds_pages_router,
        bill_pages_router,
    ):
        root.include_router(router)
    return root
