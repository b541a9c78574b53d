"""Everything that depends on the step number alone: learning rate, patch size, batch size, and which
dataset items a step trains on.

Making the data order a pure function of the step (step ``t`` reads the items right after those of
steps ``0..t-1``) is what lets a killed run resume bit-for-bit: there is no sampler state to save.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def lr_factor(step: int, *, steps: int, warmup: int, min_ratio: float, at: int | None = None) -> float:
    """Linear warm-up from ~0 to 1 over ``warmup`` steps, then cosine down to ``min_ratio`` at ``steps``.

    ``at`` (default ``step``) is where the cosine stands; the warm-up always counts the steps really
    taken, because a time-annealed run's ``at`` passes any step-counted warm-up within a second.
    """
    at = step if at is None else at
    progress = min(1.0, max(0, at - warmup) / max(1, steps - warmup))
    cosine = min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return cosine * min(1.0, (step + 1) / max(1, warmup))


def schedule_step(step: int, *, steps: int, elapsed: float, time_budget: float, by_time: bool) -> int:
    """The step the learning-rate schedule is evaluated at.

    Normally ``step``. A run that a time budget will stop (a one-shot run on a lent GPU, where the
    steps that fit are not known in advance) can anneal by time instead: the schedule then stands at
    whichever is further along, the steps or the time, so the run ends at the low learning rate
    rather than being cut off at its peak. This trades bit-exact resumption for that.
    """
    if not by_time or time_budget <= 0:
        return step
    return max(step, min(steps, int(steps * elapsed / time_budget)))


@dataclass(frozen=True)
class Phase:
    start: int
    patch: int
    batch: int


def phases(patch_size: int, batch_size: int, schedule: list[list[int]]) -> list[Phase]:
    """Progressive patches (Restormer): ``[[start_step, patch, batch], ...]``; the plain patch and batch
    size hold until the first entry (or throughout when the schedule is empty)."""
    table = [Phase(0, patch_size, batch_size)] + [Phase(int(s), int(p), int(b)) for s, p, b in sorted(schedule)]
    by_start = {p.start: p for p in table}
    return [by_start[s] for s in sorted(by_start)]


def phase_at(step: int, table: list[Phase]) -> Phase:
    current = table[0]
    for phase in table:
        if phase.start <= step:
            current = phase
    return current


def first_item(step: int, table: list[Phase]) -> int:
    """Index of the first dataset item of ``step``: the sum of all earlier steps' batch sizes."""
    total = 0
    for phase, nxt in zip(table, table[1:] + [None]):
        end = step if nxt is None else min(step, nxt.start)
        if end > phase.start:
            total += (end - phase.start) * phase.batch
    return total


def rank_items(step: int, table: list[Phase], rank: int, world: int) -> range:
    """The items this rank loads at ``step``: its contiguous share of the global batch."""
    batch = phase_at(step, table).batch
    share = batch // world
    start = first_item(step, table) + rank * share
    return range(start, start + share)
