"""Handing out guides in bulk equals members joining one by one."""

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.customers.placements import _water_fill


def one_by_one(member_stores, guides):
    """Reference: each member in turn takes the store's guide with (fewest members, lowest rank)."""
    heaps = {}
    for rank, (guide_id, store_id, load) in enumerate(guides):
        heaps.setdefault(store_id, []).append((load, rank, guide_id))
    for heap in heaps.values():
        heapq.heapify(heap)
    chosen = []
    for store_id in member_stores:
        heap = heaps.get(store_id)
        if not heap:
            chosen.append(0)
            continue
        load, rank, guide_id = heap[0]
        heapq.heapreplace(heap, (load + 1, rank, guide_id))
        chosen.append(guide_id)
    return chosen


@st.composite
def stores_and_members(draw):
    store_count = draw(st.integers(1, 6))
    guides = []
    for store_id in range(1, store_count + 1):
        for _ in range(draw(st.integers(0, 4))):
            guides.append((len(guides) + 1, store_id, draw(st.integers(0, 5))))
    members = draw(st.lists(st.integers(1, store_count), max_size=40))
    return members, guides


@settings(max_examples=300, deadline=None)
@given(stores_and_members())
def test_bulk_water_filling_matches_members_joining_one_by_one(case):
    members, guides = case
    g_id = np.array([g[0] for g in guides], dtype=np.int64)
    g_store = np.array([g[1] for g in guides], dtype=np.int64)
    loads = np.array([g[2] for g in guides], dtype=np.int64)

    chosen = _water_fill(
        np.array(members, dtype=np.int64), g_id, g_store, np.arange(len(guides)), loads
    )

    assert chosen.tolist() == one_by_one(members, guides)
