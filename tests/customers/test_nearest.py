"""The nearest-store index against a brute-force great-circle scan."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.geo import haversine_km
from apps.customers.nearest import TIE_KM, StoreIndex


def brute_force_nearest(stores, lat, lng):
    """Return the code of the nearest store whose radius covers the point, ties by code."""
    eligible = []
    for code, s_lat, s_lng, radius in stores:
        km = haversine_km(lat, lng, s_lat, s_lng)
        if radius is None or km <= radius:
            eligible.append((km, code))
    if not eligible:
        return None
    best = min(km for km, _code in eligible)
    return min(code for km, code in eligible if km <= best + TIE_KM)


def index_of(stores):
    return StoreIndex.build(
        list(range(len(stores))),
        [s[0] for s in stores],
        [s[1] for s in stores],
        [s[2] for s in stores],
        [s[3] for s in stores],
    )


def index_nearest_code(index, stores, lat, lng):
    found, _km = index.nearest([lat], [lng])
    return None if found[0] < 0 else stores[found[0]][0]


latitudes = st.one_of(
    st.floats(-90, 90),
    st.floats(89.0, 90.0),  # near the north pole
    st.floats(-90.0, -89.0),
    st.floats(18.0, 54.0),  # mainland China
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.floats(179.0, 180.0),  # both sides of the antimeridian
    st.floats(-180.0, -179.0),
    st.floats(73.0, 135.0),
)
radii = st.one_of(st.none(), st.floats(0.5, 20_000))


@st.composite
def store_sets(draw):
    count = draw(st.integers(1, 60))
    stores = []
    for number in range(count):
        if stores and draw(st.booleans()) and draw(st.booleans()):
            # Same spot as an earlier store: a tie decided by code.
            _code, lat, lng, _radius = draw(st.sampled_from(stores))
        else:
            lat, lng = draw(latitudes), draw(longitudes)
        stores.append((f"S{draw(st.integers(0, 10**6)):07d}-{number}", lat, lng, draw(radii)))
    return stores


@settings(max_examples=300, deadline=None)
@given(store_sets(), latitudes, longitudes)
def test_index_returns_the_exact_great_circle_nearest_eligible_store(stores, lat, lng):
    assert index_nearest_code(index_of(stores), stores, lat, lng) == brute_force_nearest(
        stores, lat, lng
    )


def test_a_store_across_the_antimeridian_is_nearer_than_one_on_the_same_side():
    stores = [("FIJI-EAST", -17.0, -179.9, None), ("SAME-SIDE", -17.0, 178.0, None)]

    assert index_nearest_code(index_of(stores), stores, -17.0, 179.95) == "FIJI-EAST"


def test_near_the_pole_longitude_barely_matters():
    stores = [("OPPOSITE", 89.99, -170.0, None), ("SAME-MERIDIAN", 89.0, 10.0, None)]

    assert index_nearest_code(index_of(stores), stores, 89.99, 10.0) == "OPPOSITE"


def test_flat_grid_would_pick_the_wrong_store_at_shanghai_latitude():
    # 0.10° east is ~9.5 km; 0.09° north is ~10 km: a flat grid picks north.
    stores = [("NORTH", 31.32, 121.47, None), ("EAST", 31.23, 121.57, None)]

    assert index_nearest_code(index_of(stores), stores, 31.23, 121.47) == "EAST"


def test_radius_skips_a_nearer_store_that_does_not_serve_that_far():
    stores = [("NEAR-SMALL", 31.0, 121.0, 1.0), ("FAR-OPEN", 31.5, 121.0, None)]

    assert index_nearest_code(index_of(stores), stores, 31.05, 121.0) == "FAR-OPEN"


def test_no_store_in_range_when_every_radius_falls_short():
    stores = [(f"S{i}", 31.0 + i / 100, 121.0, 2.0) for i in range(50)]

    assert index_nearest_code(index_of(stores), stores, 40.0, 116.0) is None


def test_batch_queries_agree_with_single_queries():
    rng = np.random.default_rng(7)
    stores = [
        (f"S{i:04d}", float(lat), float(lng), None)
        for i, (lat, lng) in enumerate(
            zip(rng.uniform(20, 45, 500), rng.uniform(100, 122, 500), strict=True)
        )
    ]
    index = index_of(stores)
    lats, lngs = rng.uniform(20, 45, 200), rng.uniform(100, 122, 200)

    found, km = index.nearest(lats, lngs)

    for i in range(200):
        assert stores[found[i]][0] == brute_force_nearest(stores, lats[i], lngs[i])
        _code, s_lat, s_lng, _radius = stores[found[i]]
        assert km[i] == pytest.approx(haversine_km(lats[i], lngs[i], s_lat, s_lng), abs=1e-9)
