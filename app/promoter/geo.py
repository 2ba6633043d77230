"""Distances between German postcodes, from a shipped table of postcode centroids.

``data/postcodes_de.csv`` (GeoNames, CC BY 4.0; see ``data/README.md``) is read
once per process; nothing is fetched at run time. Distances are great-circle
distances between centroids: good enough for "stores within 50 km".
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "postcodes_de.csv"
EARTH_RADIUS_KM = 6371.0


@lru_cache(maxsize=1)
def _centroids() -> dict[str, tuple[float, float]]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return {
            row["postcode"]: (float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(handle)
        }


def centroid(postcode: str | None) -> tuple[float, float] | None:
    """Latitude and longitude of a five-digit German postcode; None if unknown."""
    return _centroids().get((postcode or "").strip())


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def postcodes_within(origin: str, km: float) -> list[str] | None:
    """Every known postcode whose centroid lies within ``km`` of ``origin``'s; None if unknown.

    The list goes into the SQL query (``Location.postcode IN …``), so the store
    filter stays in the database.
    """
    start = centroid(origin)
    if start is None:
        return None
    # A cheap box first (one degree of latitude is about 111 km), then the exact distance.
    dlat = km / 111.0
    dlon = km / (111.0 * max(math.cos(math.radians(start[0])), 0.1))
    return [
        code
        for code, point in _centroids().items()
        if abs(point[0] - start[0]) <= dlat
        and abs(point[1] - start[1]) <= dlon
        and distance_km(start, point) <= km
    ]
