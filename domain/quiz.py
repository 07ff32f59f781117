"""Knowledge quiz as plain functions: shuffling, mapping shown options back, scoring.

Items and options are shown in a random order; what is stored is always the option's index
as written in the content file, so answers compare across attempts, languages and people.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Shuffle:
    item_ids: list[str]             # the order the items are asked in
    option_orders: list[list[int]]  # per asked item: content option indexes in shown order


def shuffle(items: Sequence[dict], rng: random.Random) -> Shuffle:
    """A random order of the items and, for each, of its options."""
    order = list(items)
    rng.shuffle(order)
    option_orders = []
    for item in order:
        indexes = list(range(len(item["options"])))
        rng.shuffle(indexes)
        option_orders.append(indexes)
    return Shuffle([item["id"] for item in order], option_orders)


def content_index(option_order: Sequence[int], shown: int) -> int | None:
    """The content's index of the option shown at position `shown` (None if out of range)."""
    return option_order[shown] if 0 <= shown < len(option_order) else None


def shown_index(option_order: Sequence[int], content: int) -> int:
    """Where the content's option `content` is shown."""
    return list(option_order).index(content)


def score(correct: int, total: int) -> int:
    """0-100, rounded half up (8 of 14 → 57)."""
    if total <= 0:
        return 0
    return (200 * correct + total) // (2 * total)


def knowledge_test_kind(guide_completed: bool) -> str:
    """A knowledge test before the guide is the pre-test; after it, the post-test."""
    return "post" if guide_completed else "pre"
