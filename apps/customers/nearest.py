"""Exact nearest-store search on the sphere: numpy and scipy, no ORM.

Stores are points on the unit sphere; a k-d tree over those vectors finds the
smallest chord, and chord length grows strictly with great-circle distance,
so the nearest by chord is the exact great-circle nearest. The tree cannot
see per-store service radii, so queries take the k nearest, drop the stores
whose radius does not reach the member and widen k until a store qualifies
or no store can.
"""

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from apps.core.geo import EARTH_RADIUS_KM

FIRST_K = 4
# Two distances closer than this (km, about a micrometre) are a tie, decided
# by store code. Brute-force oracles must use the same rule.
TIE_KM = 1e-9


def unit_vectors(latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    phi = np.radians(np.asarray(latitudes, dtype=np.float64))
    lmb = np.radians(np.asarray(longitudes, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)))


def haversine_km(lat1, lng1, lat2, lng2) -> np.ndarray:
    """Vectorised great-circle distance (km), same formula as ``apps.core.geo``."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lng2) - np.asarray(lng1))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


@dataclass
class StoreIndex:
    """The eligible stores of one brand, ready for nearest queries.

    Arrays are aligned; ``code_rank`` orders stores by code for tie-breaks.
    """

    store_ids: np.ndarray
    latitudes: np.ndarray
    longitudes: np.ndarray
    radii_km: np.ndarray  # +inf where a store has no service radius
    code_rank: np.ndarray
    tree: cKDTree | None

    @classmethod
    def build(cls, store_ids, codes, latitudes, longitudes, radii_km) -> "StoreIndex":
        store_ids = np.asarray(store_ids, dtype=np.int64)
        latitudes = np.asarray(latitudes, dtype=np.float64)
        longitudes = np.asarray(longitudes, dtype=np.float64)
        radii = np.array([np.inf if r is None else r for r in radii_km], dtype=np.float64)
        code_rank = np.empty(len(codes), dtype=np.int64)
        code_rank[np.argsort(np.asarray(codes, dtype=object), kind="stable")] = np.arange(
            len(codes)
        )
        tree = cKDTree(unit_vectors(latitudes, longitudes)) if len(store_ids) else None
        return cls(store_ids, latitudes, longitudes, radii, code_rank, tree)

    @property
    def max_radius_km(self) -> float:
        return float(self.radii_km.max()) if len(self.radii_km) else np.inf

    def __len__(self) -> int:
        return len(self.store_ids)

    def nearest(self, latitudes, longitudes) -> tuple[np.ndarray, np.ndarray]:
        """Return, per point, the index of the nearest eligible store and its distance.

        The index is -1 (distance NaN) where no store's radius covers the point.
        """
        latitudes = np.atleast_1d(np.asarray(latitudes, dtype=np.float64))
        longitudes = np.atleast_1d(np.asarray(longitudes, dtype=np.float64))
        count = len(latitudes)
        found = np.full(count, -1, dtype=np.int64)
        found_km = np.full(count, np.nan)
        if self.tree is None or count == 0:
            return found, found_km
        points = unit_vectors(latitudes, longitudes)
        todo = np.arange(count)
        k = min(FIRST_K, len(self))
        while len(todo):
            _chords, idx = self.tree.query(points[todo], k=k)
            idx = idx.reshape(len(todo), -1)
            km = haversine_km(
                latitudes[todo, None], longitudes[todo, None],
                self.latitudes[idx], self.longitudes[idx],
            )  # fmt: skip
            eligible = km <= self.radii_km[idx]
            masked_km = np.where(eligible, km, np.inf)
            best_km = masked_km.min(axis=1)
            # A candidate further than the k-th neighbour could still tie or
            # win only if the k-th neighbour itself is within a tie of the best
            # or no candidate was eligible: those rows widen k.
            kth_km = km.max(axis=1)
            settled = np.isfinite(best_km) & (kth_km > best_km + TIE_KM)
            # Nothing beyond the k-th neighbour is eligible once it lies further
            # than the widest service radius.
            settled |= kth_km > self.max_radius_km
            if k >= len(self):
                settled = np.ones(len(todo), dtype=bool)
            rows = np.nonzero(settled)[0]
            if len(rows):
                tie = masked_km[rows] <= best_km[rows, None] + TIE_KM
                rank = np.where(tie, self.code_rank[idx[rows]], np.iinfo(np.int64).max)
                choice = rank.argmin(axis=1)
                chosen = idx[rows, choice]
                has = np.isfinite(best_km[rows])
                found[todo[rows[has]]] = chosen[has]
                found_km[todo[rows[has]]] = masked_km[rows[has], choice[has]]
            todo = todo[~settled]
            k = min(k * 4, len(self))
        return found, found_km
