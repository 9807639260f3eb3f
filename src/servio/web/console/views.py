"""View models of the console pages (plain data, no I/O): the wizard's steps and the
licence usage bars."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from servio.platform.limits import LimitName, LimitUsage

# --- onboarding wizard ---------------------------------------------------------------------

StepState = Literal["done", "current", "todo"]


@dataclass(frozen=True)
class WizardStep:
    key: str
    title: str
    summary: str


WIZARD_STEPS: tuple[WizardStep, ...] = (
    WizardStep("profile", "Profile", "Name, address, logo, time zone and language"),
    WizardStep("tax", "Tax", "GST registration, state and rounding"),
    WizardStep("hours", "Hours", "Opening hours and holidays"),
    WizardStep("tables", "Tables", "How many tables and how they are labelled"),
    WizardStep("payments", "Payments", "Payment modes and UPI"),
    WizardStep("finish", "Finish", "Check and activate the outlet"),
)
STEP_KEYS: tuple[str, ...] = tuple(step.key for step in WIZARD_STEPS)


@dataclass(frozen=True)
class StepperItem:
    step: WizardStep
    number: int
    state: StepState
    reachable: bool  # a link is offered: done steps and the first open one


def current_step(requested: str | None, completed: Iterable[str]) -> str:
    """The step to show: the requested one when it is reachable, else the first one not
    completed yet (so a returning owner resumes where they left off)."""
    done = set(completed)
    first_open = next((key for key in STEP_KEYS if key not in done), STEP_KEYS[-1])
    if requested in STEP_KEYS and (requested in done or requested == first_open):
        return requested
    return first_open


def stepper(current: str, completed: Iterable[str]) -> list[StepperItem]:
    done = set(completed)
    first_open = next((key for key in STEP_KEYS if key not in done), STEP_KEYS[-1])
    items: list[StepperItem] = []
    for number, step in enumerate(WIZARD_STEPS, start=1):
        state: StepState = (
            "current" if step.key == current else "done" if step.key in done else "todo"
        )
        reachable = step.key in done or step.key == first_open
        items.append(StepperItem(step, number, state, reachable))
    return items


def next_step(key: str) -> str | None:
    index = STEP_KEYS.index(key)
    return STEP_KEYS[index + 1] if index + 1 < len(STEP_KEYS) else None


def previous_step(key: str) -> str | None:
    index = STEP_KEYS.index(key)
    return STEP_KEYS[index - 1] if index > 0 else None


# --- licence usage bars ----------------------------------------------------------------------

_USAGE_LABELS: dict[LimitName, tuple[str, str]] = {
    # limit: (bar label, unit in "12 of 15 <unit>")
    "max_tables": ("Tables", "tables"),
    "max_menu_items": ("Menu items", "items"),
    "max_images_mb": ("Image storage", "MB"),
}
NEAR_LIMIT_SHARE = 0.8  # a bar turns amber from 80 % used


@dataclass(frozen=True)
class UsageBar:
    key: LimitName
    label: str
    unit: str
    used: int
    limit: int | None

    @property
    def level(self) -> Literal["ok", "near", "full", "unlimited"]:
        if self.limit is None:
            return "unlimited"
        if self.used >= self.limit:
            return "full"
        return "near" if self.used >= self.limit * NEAR_LIMIT_SHARE else "ok"

    @property
    def text(self) -> str:
        if self.limit is None:
            return f"{self.used} {self.unit} · no limit"
        return f"{self.used} of {self.limit} {self.unit}"


def usage_bars(usages: Sequence[LimitUsage], only: Iterable[LimitName] = ()) -> list[UsageBar]:
    wanted = set(only)
    return [
        UsageBar(u.name, *_USAGE_LABELS[u.name], used=u.used, limit=u.limit)
        for u in usages
        if not wanted or u.name in wanted
    ]
