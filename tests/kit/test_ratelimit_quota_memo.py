"""The per-request quota lookup matches `route_class_quotas` and follows changed limits."""

from __future__ import annotations

from servio.config import Settings
from servio.kit.ratelimit import ROUTE_CLASSES, _quotas, route_class_quotas


def test_memoized_quotas_match_the_table_and_follow_changes() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for route_class in ROUTE_CLASSES:
        assert _quotas(settings, route_class) == route_class_quotas(settings)[route_class]
    settings.rate_guest_per_token_min = 3
    settings.rate_refunds_per_user_hour = 7
    for route_class in ROUTE_CLASSES:
        assert _quotas(settings, route_class) == route_class_quotas(settings)[route_class]
    assert _quotas(settings, "guest")[0].limit == 3
