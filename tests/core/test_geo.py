import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core import geo

# Published reference pairs (WGS-84 → GCJ-02) used by the eviltransform
# implementations: Shanghai, Shenzhen, Beijing, and three points abroad.
GCJ_REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
    (39.7392, -104.9903, 39.7392, -104.9903),
    (-27.4698, 153.0251, -27.4698, 153.0251),
    (-22.9068, -43.1729, -22.9068, -43.1729),
]
# Tiananmen (39.915, 116.404) through each transform, as published in the
# README of the widely used coordtransform library.
TIANANMEN = (39.915, 116.404)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), GCJ_REFERENCE)
def test_wgs84_to_gcj02_matches_published_points(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lat, lng = geo.wgs84_to_gcj02(wgs_lat, wgs_lng)

    assert lat == pytest.approx(gcj_lat, abs=1e-6)
    assert lng == pytest.approx(gcj_lng, abs=1e-6)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), GCJ_REFERENCE)
def test_gcj02_to_wgs84_lands_within_centimetres_of_published_points(
    wgs_lat, wgs_lng, gcj_lat, gcj_lng
):
    lat, lng = geo.to_wgs84(gcj_lat, gcj_lng, "gcj02")

    assert geo.haversine_km(lat, lng, wgs_lat, wgs_lng) * 1000 < 0.05


def test_bd09_transforms_match_published_tiananmen_values():
    assert geo.bd09_to_gcj02(*TIANANMEN) == pytest.approx(
        (39.90865673957631, 116.39762729119315), abs=1e-9
    )
    assert geo.gcj02_to_bd09(*TIANANMEN) == pytest.approx(
        (39.92133699351021, 116.41036949371029), abs=1e-9
    )
    assert geo.wgs84_to_gcj02(*TIANANMEN) == pytest.approx(
        (39.91640428150164, 116.41024449916938), abs=1e-9
    )
    # The published inverse is the one-step approximation (metre-level);
    # this project inverts exactly, so it agrees to within a metre.
    lat, lng = geo.gcj02_to_wgs84(*TIANANMEN)
    assert geo.haversine_km(lat, lng, 39.91359571849836, 116.39775550083061) < 0.001


def test_bd09_point_converts_to_wgs84_through_gcj02():
    lat, lng = geo.to_wgs84(*TIANANMEN, "bd09")

    assert geo.wgs84_to_gcj02(lat, lng) == pytest.approx(geo.bd09_to_gcj02(*TIANANMEN), abs=1e-9)
    assert geo.haversine_km(lat, lng, *TIANANMEN) > 0.5  # hundreds of metres off


def test_bd09_and_gcj02_published_pair_round_trips():
    assert geo.gcj02_to_bd09(39.90245, 116.42703) == pytest.approx((39.90851, 116.43351), abs=5e-5)
    assert geo.bd09_to_gcj02(39.90851, 116.43351) == pytest.approx((39.90245, 116.42703), abs=5e-5)


def test_great_circle_distance_beijing_shanghai():
    # Tiananmen to the Bund: about 1,067 km along the great circle.
    assert geo.haversine_km(39.9087, 116.3975, 31.2400, 121.4900) == pytest.approx(1067, abs=5)


def test_east_west_degrees_are_not_treated_as_a_flat_grid():
    # One degree of longitude at Shanghai's latitude is ~95 km, not ~111 km.
    assert geo.haversine_km(31.23, 121.0, 31.23, 122.0) == pytest.approx(95.1, abs=0.5)


china_points = st.tuples(st.floats(18.0, 53.0), st.floats(74.0, 134.0))


@given(china_points)
def test_gcj02_inverse_recovers_the_gps_point(point):
    lat, lng = point
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lat, lng))

    assert geo.haversine_km(*back, lat, lng) < 1e-6


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_chord_is_monotonic_in_great_circle_distance(lat, lng):
    x1, y1, z1 = geo.unit_vector(0.0, 0.0)
    x2, y2, z2 = geo.unit_vector(lat, lng)
    chord = ((x1 - x2) ** 2 + (y1 - y2) ** 2 + (z1 - z2) ** 2) ** 0.5

    # asin is ill-conditioned near the antipode: a few millimetres of float noise at 20,000 km.
    assert geo.km_for_chord(chord) == pytest.approx(
        geo.haversine_km(0, 0, lat, lng), rel=1e-9, abs=1e-6
    )
