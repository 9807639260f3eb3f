"""The kitchen SLA rules (`kitchen.sla`, pure): the escalation ladder, which levels fall due
when, each level raised once over any sequence of watcher runs, and the owner summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from servio.kitchen import sla

T0 = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
DEFAULT = sla.thresholds(900, 1800)

secs = st.integers(min_value=60, max_value=86_400)
elapsed = st.integers(min_value=0, max_value=10_000_000)  # hundredths of a second


def item(
    line: str, started_secs_ago: float, *, table: str | None = "T1", order: str = "O1"
) -> sla.CookingItem:
    return sla.CookingItem(
        order_line_id=line,
        order_id=order,
        station="kitchen",
        name=f"dish {line}",
        qty=1,
        started_at=T0 - timedelta(seconds=started_secs_ago),
        table=table,
    )


def test_the_default_ladder_is_900_1350_1800() -> None:
    assert sla.Thresholds(expo_secs=900, manager_secs=1350, owner_secs=1800) == DEFAULT
    assert [sla.ROLES[level] for level in sla.LEVELS] == ["expo", "manager", "owner"]


def test_longer_than_the_sla_is_strict() -> None:
    assert sla.levels_due(timedelta(seconds=899), DEFAULT) == ()
    assert sla.levels_due(timedelta(seconds=900), DEFAULT) == ()
    assert sla.levels_due(timedelta(seconds=900, milliseconds=1), DEFAULT) == (1,)
    assert sla.levels_due(timedelta(seconds=901), DEFAULT) == (1,)
    assert sla.levels_due(timedelta(seconds=1351), DEFAULT) == (1, 2)
    assert sla.levels_due(timedelta(seconds=1801), DEFAULT) == (1, 2, 3)


def test_an_owner_threshold_below_the_sla_raises_everything_at_the_sla() -> None:
    ladder = sla.thresholds(900, 300)
    assert ladder == sla.Thresholds(900, 900, 900)
    assert sla.levels_due(timedelta(seconds=899), ladder) == ()
    assert sla.levels_due(timedelta(seconds=901), ladder) == (1, 2, 3)


@given(sla_secs=secs, owner_secs=secs)
def test_the_ladder_is_ordered_and_anchored_on_the_settings(sla_secs: int, owner_secs: int) -> None:
    ladder = sla.thresholds(sla_secs, owner_secs)
    assert ladder.expo_secs == sla_secs
    assert ladder.owner_secs == max(sla_secs, owner_secs)
    assert ladder.expo_secs <= ladder.manager_secs <= ladder.owner_secs
    # The manager sits half-way (rounded down) between expo and owner.
    assert ladder.manager_secs - ladder.expo_secs == (ladder.owner_secs - ladder.expo_secs) // 2


@given(sla_secs=secs, owner_secs=secs, a=elapsed, b=elapsed)
def test_levels_only_accumulate_and_are_a_prefix(
    sla_secs: int, owner_secs: int, a: int, b: int
) -> None:
    ladder = sla.thresholds(sla_secs, owner_secs)
    early, late = sorted((a, b))
    due_early = sla.levels_due(timedelta(milliseconds=early * 10), ladder)
    due_late = sla.levels_due(timedelta(milliseconds=late * 10), ladder)
    assert set(due_early) <= set(due_late)
    for due in (due_early, due_late):
        assert due == sla.LEVELS[: len(due)]


@given(sla_secs=secs, owner_secs=secs, cooking_ms=st.integers(0, 100_000_000))
def test_a_level_is_due_exactly_when_its_threshold_is_passed(
    sla_secs: int, owner_secs: int, cooking_ms: int
) -> None:
    ladder = sla.thresholds(sla_secs, owner_secs)
    cooking = timedelta(milliseconds=cooking_ms)
    due = sla.levels_due(cooking, ladder)
    for level in sla.LEVELS:
        assert (level in due) == (cooking_ms > ladder.for_level(level) * 1000)
    assert sla.overdue_secs(cooking, ladder) == max(0, (cooking_ms - sla_secs * 1000) // 1000)


@given(
    sla_secs=secs,
    owner_secs=secs,
    runs=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30),
    started=st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=6),
)
def test_watcher_runs_raise_each_level_of_each_item_once(
    sla_secs: int, owner_secs: int, runs: list[int], started: list[int]
) -> None:
    """Whatever the cadence of the watcher (repeats included), the raised levels of an item
    are exactly the levels due at the last run, each raised once, in level order."""
    ladder = sla.thresholds(sla_secs, owner_secs)
    raised: dict[str, list[int]] = {}
    items = [item(f"L{i}", -offset) for i, offset in enumerate(started)]  # start in the future
    last = T0
    for at in sorted(runs):
        last = T0 + timedelta(seconds=at)
        current = [
            sla.CookingItem(
                **{**vars(it), "raised_levels": frozenset(raised.get(it.order_line_id, ()))}
            )
            for it in items
        ]
        for due in sla.due_breaches(current, ladder, last):
            assert due.level not in raised.get(due.item.order_line_id, [])
            raised.setdefault(due.item.order_line_id, []).append(due.level)
    for it in items:
        expected = sla.levels_due(sla.cooking_time(it.started_at, last), ladder)
        assert tuple(sorted(raised.get(it.order_line_id, []))) == expected
        assert raised.get(it.order_line_id, []) == sorted(raised.get(it.order_line_id, []))


def test_due_breaches_skip_levels_already_raised_and_put_the_most_delayed_first() -> None:
    older = sla.CookingItem(**{**vars(item("A", 1400)), "raised_levels": frozenset({1})})
    newer = item("B", 950)
    due = sla.due_breaches([newer, older], DEFAULT, T0)
    assert [(d.item.order_line_id, d.level, d.role) for d in due] == [
        ("A", 2, "manager"),
        ("B", 1, "expo"),
    ]
    assert [(d.cooking_secs, d.overdue_secs) for d in due] == [(1400, 500), (950, 50)]


def test_items_within_the_sla_or_started_in_the_future_raise_nothing() -> None:
    assert sla.due_breaches([item("A", 899), item("B", -30)], DEFAULT, T0) == []
    assert sla.cooking_time(T0 + timedelta(seconds=5), T0) == timedelta(0)


# --- the owner summary ------------------------------------------------------------------------


def test_the_owner_summary_ranks_items_and_tables_by_delay() -> None:
    items = [
        item("A", 2000, table="T1", order="O1"),
        item("B", 1000, table="T1", order="O1"),
        item("C", 1900, table="T2", order="O2"),
        item("D", 950, table=None, order="O3"),
        item("E", 960, table=None, order="O4"),
        item("F", 100, table="T3", order="O5"),  # within the SLA: not in the summary
    ]
    summary = sla.owner_summary(items, DEFAULT, T0, top_n=3)
    assert summary.breached_items == 5
    assert [i.order_line_id for i in summary.items] == ["A", "C", "B"]
    assert [i.level for i in summary.items] == [3, 3, 1]
    assert [(t.table, t.order_ids, t.items, t.max_overdue_secs) for t in summary.tables] == [
        ("T1", ("O1",), 2, 1100),
        ("T2", ("O2",), 1, 1000),
        (None, ("O4",), 1, 60),  # orders without a table are not merged together
    ]
    as_dict = summary.as_dict()
    assert as_dict["items"][0]["overdue_secs"] == 1100
    assert as_dict["tables"][0] == {
        "table": "T1",
        "order_ids": ["O1"],
        "items": 2,
        "max_overdue_secs": 1100,
    }


@given(
    ages=st.lists(st.integers(min_value=0, max_value=10_000), max_size=25),
    top_n=st.integers(min_value=0, max_value=8),
    tables=st.lists(st.sampled_from(["T1", "T2", "T3", None]), min_size=25, max_size=25),
)
def test_the_owner_summary_is_the_top_n_of_the_breached_items(
    ages: list[int], top_n: int, tables: list[str | None]
) -> None:
    items = [
        item(f"L{i:02d}", age, table=tables[i], order=f"O{i % 7}") for i, age in enumerate(ages)
    ]
    summary = sla.owner_summary(items, DEFAULT, T0, top_n=top_n)
    breached = sorted((age for age in ages if age > 900), reverse=True)
    assert summary.breached_items == len(breached)
    assert [i.cooking_secs for i in summary.items] == breached[:top_n]
    assert len(summary.tables) <= top_n
    overdue = [t.max_overdue_secs for t in summary.tables]
    assert overdue == sorted(overdue, reverse=True)
    if summary.tables:
        # The first table holds the most delayed item of all.
        assert summary.tables[0].max_overdue_secs == breached[0] - 900
    assert all(i.cooking_secs > 900 and i.level >= 1 for i in summary.items)
