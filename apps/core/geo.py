"""Coordinates and distances: pure functions, no ORM.

Chinese map providers publish coordinates in GCJ-02 (Amap, Tencent, WeChat's
``gcj02`` mode) or BD-09 (Baidu), offset by hundreds of metres from WGS-84
(GPS). Everything stored by this project is WGS-84; the transforms here are
the widely published reference formulas (the GCJ-02 forward transform and
Baidu's BD-09 rotation), with the inverse of GCJ-02 solved iteratively to
well under a centimetre.
"""

import math
from enum import StrEnum

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0


class CoordSystem(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def coordinates_are_valid(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def is_failed_fix(latitude: float, longitude: float) -> bool:
    """Return whether a position is exactly (0, 0): what a failed GPS fix reports, not a place."""
    return latitude == 0 and longitude == 0


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Return the great-circle distance between two WGS-84 points in km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def unit_vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    """Return the point as a vector on the unit sphere.

    The straight-line (chord) distance between two unit vectors grows
    strictly with their great-circle distance, so the nearest point by chord
    is the exact nearest point on the sphere.
    """
    phi, lmb = math.radians(latitude), math.radians(longitude)
    cos_phi = math.cos(phi)
    return (cos_phi * math.cos(lmb), cos_phi * math.sin(lmb), math.sin(phi))


def km_for_chord(chord: float) -> float:
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2))


def is_outside_mainland_china(latitude: float, longitude: float) -> bool:
    """Return True where GCJ-02 is defined to equal WGS-84 (the published bounding box)."""
    return not (72.004 <= longitude <= 137.8347 and 0.8293 <= latitude <= 55.8271)


def _gcj_offset(latitude: float, longitude: float) -> tuple[float, float]:
    x, y = longitude - 105.0, latitude - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = math.radians(latitude)
    magic = 1 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    if is_outside_mainland_china(latitude, longitude):
        return latitude, longitude
    dlat, dlng = _gcj_offset(latitude, longitude)
    return latitude + dlat, longitude + dlng


def gcj02_to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    """Invert GCJ-02 by fixed-point iteration (converges to < 1e-9 degrees)."""
    if is_outside_mainland_china(latitude, longitude):
        return latitude, longitude
    wgs_lat, wgs_lng = latitude, longitude
    for _ in range(30):
        gcj_lat, gcj_lng = wgs84_to_gcj02(wgs_lat, wgs_lng)
        err_lat, err_lng = gcj_lat - latitude, gcj_lng - longitude
        wgs_lat, wgs_lng = wgs_lat - err_lat, wgs_lng - err_lng
        if abs(err_lat) < 1e-10 and abs(err_lng) < 1e-10:
            break
    return wgs_lat, wgs_lng


def bd09_to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    x, y = longitude - 0.0065, latitude - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def gcj02_to_bd09(latitude: float, longitude: float) -> tuple[float, float]:
    x, y = longitude, latitude
    z = math.sqrt(x * x + y * y) + 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * _BD_X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    if is_outside_mainland_china(latitude, longitude):
        return latitude, longitude
    return gcj02_to_wgs84(*bd09_to_gcj02(latitude, longitude))


def to_wgs84(latitude: float, longitude: float, coord_system: str) -> tuple[float, float]:
    """Convert a point given in ``coord_system`` to WGS-84."""
    system = CoordSystem(coord_system)
    if system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(latitude, longitude)
    if system is CoordSystem.BD09:
        return bd09_to_wgs84(latitude, longitude)
    return latitude, longitude
