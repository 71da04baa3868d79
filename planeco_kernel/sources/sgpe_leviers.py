"""SGPE « simulateur territorial » — the regional panorama of decarbonisation levers of each COP.

Source: MTES-MCT/planification-territoires, commit 677f09ed20382946090ebd449aa0833faf850622
(2024-10-10), ``src/lib/assets/data.json`` (mirror: ``sgpe/simulateur_territorial/
leviers_regionaux.json``), Licence Ouverte 2.0. It is the dashboard the SGPE gave each regional
COP (circular of 29 September 2023): **SGPE working data, indicative and non-binding** — every
view that shows it says so (:data:`NOTICE`).

Layout: a JSON list of 474 objects, one per région × lever, with ``id`` (lever id, e.g.
``augm_voitelec``), ``leverName``, ``regionName`` (a name, not a code: 13 metropolitan and 5
overseas régions, abbreviated ``PACA`` for Provence-Alpes-Côte d'Azur, plus a ``Région exemple``
that is not a région and is dropped), ``sector``, ``group`` (the « Mieux … » blocks),
``objCO2`` (ktCO₂e avoided in 2030 versus 2019), ``unitPhys``, ``ratioCO2toPhys``,
``startPoint2019``, ``relative`` (the physical translation), ``comment`` (Markdown) and display
rules (``regionHidden``, ``editionDisabled``, ``noTranslation`` …).

Conversion (the tool's own, README of the mirror): ``phys_2030 = max(0, start + kt × ratio)``
and ``kt = (phys_2030 − start) / ratio``; see :mod:`planeco_kernel.trajectories.levers`.

Verified on the mirror file: 474 rows, 42 lever ids, Σ objCO2 over the 18 real régions
≈ 201 954 ktCO₂e (README: ≈ 202 MtCO₂e).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "sgpe_leviers"
"""Registry id (``sources/registry.yaml``: title, publisher, licence, declared sha256 of the file)."""
NOTICE = "Données de travail SGPE, indicatives, non contraignantes."

RELEASE = Release(
    SOURCE_ID, 2024,
    "https://raw.githubusercontent.com/MTES-MCT/planification-territoires/"
    "677f09ed20382946090ebd449aa0833faf850622/src/lib/assets/data.json",
    "data.json", mirror_path="sgpe/simulateur_territorial/leviers_regionaux.json",
)

EXCLUDED_REGIONS = frozenset({"Région exemple"})
REGION_CODES: dict[str, str] = {
    "Auvergne-Rhône-Alpes": "84", "Bourgogne-Franche-Comté": "27", "Bretagne": "53",
    "Centre-Val de Loire": "24", "Corse": "94", "Grand Est": "44", "Guadeloupe": "01", "Guyane": "03",
    "Hauts-de-France": "32", "Île-de-France": "11", "La Réunion": "04", "Martinique": "02",
    "Mayotte": "06", "Normandie": "28", "Nouvelle-Aquitaine": "75", "Occitanie": "76",
    "Pays de la Loire": "52", "PACA": "93",
}
"""The tool's région names -> INSEE région codes (``PACA`` is Provence-Alpes-Côte d'Azur)."""

REQUIRED = ("id", "leverName", "regionName", "sector", "group", "objCO2", "ratioCO2toPhys",
            "startPoint2019", "relative", "regionHidden", "editionDisabled", "noTranslation")

COLUMNS = ("region_code", "region_name", "lever_id", "lever_name", "sector", "group", "obj_kt",
           "unit_phys", "ratio_co2_to_phys", "start_2019", "relative", "hidden", "edition_disabled",
           "no_translation", "comment")


def _number(row: dict, key: str, where: str) -> float:
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise SchemaError(f"{where}: « {key} » doit être un nombre, trouvé {v!r}.")
    return float(v)


def parse(path: Path) -> pd.DataFrame:
    """Parse and validate the simulateur's data.json; one row per real région × lever.

    Raises
    ------
    SchemaError
        Naming the file and the row: missing fields, non-numeric objective or ratio, unknown
        région name, duplicated (région, lever).
    """
    name = RELEASE.filename
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{name}: JSON illisible ({exc}).") from exc
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"{name}: attendu une liste d'objets région × levier.")
    rows = []
    for i, r in enumerate(raw, start=1):
        where = f"{name}, objet n° {i}"
        if not isinstance(r, dict):
            raise SchemaError(f"{where}: attendu un objet.")
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            raise SchemaError(f"{where}: champs manquants {missing} (la structure du fichier a changé).")
        region = str(r["regionName"])
        if region in EXCLUDED_REGIONS:
            continue
        code = REGION_CODES.get(region)
        if code is None:
            raise SchemaError(f"{where}: région inconnue « {region} » ; ajoutez-la à REGION_CODES si elle est réelle.")
        unit = r.get("unitPhys")
        rows.append({
            "region_code": code, "region_name": region, "lever_id": str(r["id"]),
            "lever_name": str(r["leverName"]).strip(), "sector": str(r["sector"]), "group": str(r["group"]),
            "obj_kt": _number(r, "objCO2", where),
            "unit_phys": " ".join(str(unit).split()) if unit else None,
            "ratio_co2_to_phys": _number(r, "ratioCO2toPhys", where),
            "start_2019": _number(r, "startPoint2019", where),
            "relative": bool(r["relative"]), "hidden": bool(r["regionHidden"]),
            "edition_disabled": bool(r["editionDisabled"]), "no_translation": bool(r["noTranslation"]),
            "comment": str(r.get("comment") or ""),
        })
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    dup = df.duplicated(["region_code", "lever_id"])
    if dup.any():
        raise SchemaError(f"{name}: couples (région, levier) en double, ex. {df.loc[dup, ['region_name', 'lever_id']].head(3).values.tolist()}")
    if (df["obj_kt"] < 0).any():
        raise SchemaError(f"{name}: objectifs objCO2 négatifs : {df.loc[df['obj_kt'] < 0, 'lever_id'].unique().tolist()}")
    for c in ("region_code", "region_name", "lever_id", "lever_name", "sector", "group", "unit_phys", "comment"):
        df[c] = df[c].astype("string")
    return df


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or GitHub), check the registry's declared sha256, parse and validate."""
    from planeco_kernel.sources import identity

    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    identity.verify(url or str(RELEASE.mirror_path), artifact.sha256, where=RELEASE.filename)
    return parse(artifact.path)
