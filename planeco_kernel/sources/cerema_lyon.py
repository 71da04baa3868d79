"""Real land consumption (Cerema) and construction (Sit@del) for the Métropole de Lyon, offline.

Source: the test fixture of MTES-MCT/sparte (« Mon diagnostic artificialisation »), commit
5fde3ff, ``public_data/fixtures/test_data.json.gz``, extracted without change to CSV in the
offline mirror (``cerema_lyon/``). It covers EPCI 200046977 (Métropole de Lyon) and its 58
communes only; data by Cerema (fichiers fonciers), SDES (Sit@del), Licence Ouverte.

- ``conso_enaf_metropole_lyon_2009_2023.csv``: ``land_id, land_type (COMM|EPCI), surface (m²),
  year, total, activite, habitat, mixte, route, ferroviaire, inconnu`` — the annual NAF
  consumption flow of year N in **m²**, the same quantities as the national Cerema file
  (:mod:`planeco_kernel.sources.cerema_conso`: ``naf<yy>art<yy+1>``, ``art<yy>act<yy+1>`` …).
  Checked: ``total`` = sum of the six destinations; the communes sum to the EPCI row each year;
  2011–2020 over the communes = 827.7 ha.
- ``sitadel_metropole_lyon_2019_2024.csv``: ``land_id, land_type, year, logements_autorises,
  logements_commences, …`` — dwellings authorised and started (Sit@del), 57 of the 58 communes.
  Facts checked on the file: the communes sum to slightly less than the EPCI row (permits not
  located in a commune: 53 of 7,787 dwellings authorised in 2019), never more — checked; the
  latest year's started dwellings are 0 for every commune and the EPCI while thousands were
  authorised: a provisional blank, not a real zero, so that year's ``logements_commences`` is
  dropped.

The tidy output uses the national connectors' variable names (``conso_naf_ha``,
``conso_naf_habitat_ha`` …, ``logements_autorises``, ``logements_commences``), so the same
indicators read it for those 58 communes; the catalogue declares this source after the national
ones, which are preferred wherever present.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "cerema_lyon"
EPCI_SIREN = "200046977"
COMMUNES = 58
_REPO = "https://github.com/MTES-MCT/sparte"

RELEASE = Release(
    SOURCE_ID, 2023, _REPO, "conso_enaf_metropole_lyon_2009_2023.csv",
    mirror_path="cerema_lyon/conso_enaf_metropole_lyon_2009_2023.csv", sep=",", encodings=("utf-8",),
    extra={"mirror_only": True},
)
SITADEL_RELEASE = Release(
    SOURCE_ID, 2024, _REPO, "sitadel_metropole_lyon_2019_2024.csv",
    mirror_path="cerema_lyon/sitadel_metropole_lyon_2019_2024.csv", sep=",", encodings=("utf-8",),
    extra={"mirror_only": True},
)

DESTINATIONS: dict[str, str] = {
    "activite": "conso_naf_activite_ha", "habitat": "conso_naf_habitat_ha", "mixte": "conso_naf_mixte_ha",
    "route": "conso_naf_routes_ha", "ferroviaire": "conso_naf_ferre_ha", "inconnu": "conso_naf_inconnu_ha",
}
CONSO_COLUMNS = ("land_id", "land_type", "year", "total", *DESTINATIONS)
SITADEL_COLUMNS = ("land_id", "land_type", "year", "logements_autorises", "logements_commences")


def _frame(path: Path, rel: Release, columns: tuple[str, ...], values: list[str]) -> pd.DataFrame:
    df = base.read_csv(path, rel, required=columns, usecols=columns)
    label = df.attrs.get("source_name", rel.filename)
    bad_type = sorted(set(df["land_type"]) - {"COMM", "EPCI"})
    if bad_type:
        raise SchemaError(f"{label}: unexpected land_type {bad_type} (expected COMM or EPCI)")
    com = df["land_type"] == "COMM"
    base.check_codes(df.loc[com, "land_id"], name=label, column="land_id")
    base.check_codes(df.loc[~com, "land_id"], name=label, column="land_id", pattern=base.EPCI_SIREN_PATTERN)
    df = base.to_numeric(df, ["year", *values], name=label)
    # small negative values (−1 m²) come from rounding, as in the national file
    base.check_ranges(df, {v: (-100.0, 1e9) for v in values}, name=label)
    df["year"] = df["year"].astype(int)
    if df.duplicated(["land_type", "land_id", "year"]).any():
        raise SchemaError(f"{label}: duplicated (land_type, land_id, year) rows")
    return df


def _check_epci_sum(df: pd.DataFrame, values: list[str], *, name: str, tolerance: float) -> None:
    """The communes of each year sum to the EPCI row (the extract is one EPCI and its communes)."""
    com = df[df["land_type"] == "COMM"].groupby("year")[values].sum()
    epci = df[(df["land_type"] == "EPCI") & (df["land_id"] == EPCI_SIREN)].set_index("year")[values]
    if epci.empty:
        raise SchemaError(f"{name}: no row for EPCI {EPCI_SIREN} (Métropole de Lyon)")
    gap = (com.reindex(epci.index) - epci).abs()
    if (gap > tolerance).to_numpy().any():
        raise SchemaError(f"{name}: the communes do not sum to the EPCI row (years "
                          f"{gap.index[(gap > tolerance).any(axis=1)].tolist()}): the extract is incomplete.")


def parse_conso(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the land-consumption extract (m²); communes and EPCI rows."""
    df = _frame(path, rel, CONSO_COLUMNS, ["total", *DESTINATIONS])
    label = df.attrs.get("source_name", rel.filename)
    gap = (df["total"] - df[list(DESTINATIONS)].sum(axis=1)).abs()
    if (gap > 1.0).any():
        raise SchemaError(f"{label}: total differs from the sum of the six destinations (le total n'est plus la "
                          "somme des six destinations) "
                          f"(e.g. {df.loc[gap > 1.0, ['land_id', 'year']].head(3).values.tolist()})")
    _check_epci_sum(df, ["total", *DESTINATIONS], name=label, tolerance=1.0)
    n = df.loc[df["land_type"] == "COMM", "land_id"].nunique()
    if n != COMMUNES:
        raise SchemaError(f"{label}: {n} communes (expected the {COMMUNES} of the Métropole de Lyon)")
    return df


def parse_sitadel(path: Path, rel: Release = SITADEL_RELEASE) -> pd.DataFrame:
    """Parse and check the Sit@del extract; communes and EPCI rows (communes never exceed the EPCI)."""
    values = ["logements_autorises", "logements_commences"]
    df = _frame(path, rel, SITADEL_COLUMNS, values)
    label = df.attrs.get("source_name", rel.filename)
    com = df[df["land_type"] == "COMM"].groupby("year")[values].sum()
    epci = df[(df["land_type"] == "EPCI") & (df["land_id"] == EPCI_SIREN)].set_index("year")[values]
    if epci.empty:
        raise SchemaError(f"{label}: no row for EPCI {EPCI_SIREN} (Métropole de Lyon)")
    over = com.reindex(epci.index) - epci > 0.5
    if over.to_numpy().any():
        raise SchemaError(f"{label}: the communes sum to more than the EPCI row (years "
                          f"{over.index[over.any(axis=1)].tolist()}): the extract is inconsistent.")
    return df


def tidy_conso(df: pd.DataFrame) -> pd.DataFrame:
    """Commune rows in hectares, with the national connector's variable names."""
    com = df[df["land_type"] == "COMM"].rename(columns={"land_id": "commune_code"})
    variables = {"total": ("conso_naf_ha", "ha"), **{k: (v, "ha") for k, v in DESTINATIONS.items()}}
    long = base.melt(com, key="commune_code", year="year", variables=variables)
    long["value"] = long["value"] / 10_000.0
    return long


def tidy_sitadel(df: pd.DataFrame) -> pd.DataFrame:
    """Commune rows; started dwellings of a provisional year (0 everywhere, authorised > 0) dropped."""
    epci = df[df["land_type"] == "EPCI"].set_index("year")
    provisional = set(epci.index[(epci["logements_commences"] == 0) & (epci["logements_autorises"] > 0)])
    com = df[df["land_type"] == "COMM"].rename(columns={"land_id": "commune_code"})
    long = base.melt(com, key="commune_code", year="year", variables={
        "logements_autorises": ("logements_autorises", "logements"),
        "logements_commences": ("logements_commences", "logements")})
    return long[~((long["variable"] == "logements_commences") & long["year"].isin(provisional))]


def releases() -> list[Release]:
    """The extract's files (land consumption first: it decides availability)."""
    return [RELEASE, SITADEL_RELEASE]


def load(*, mirror: str | Path | None = None, cache=None) -> pd.DataFrame:
    """Both extracts as one tidy frame (communes only; the EPCI rows serve the checks)."""
    conso = parse_conso(base.obtain(RELEASE, mirror=mirror, cache=cache).path)
    sitadel = parse_sitadel(base.obtain(SITADEL_RELEASE, mirror=mirror, cache=cache).path)
    long = pd.concat([tidy_conso(conso), tidy_sitadel(sitadel)], ignore_index=True)
    return base.validate_tidy(long, name="cerema_lyon")


# --------------------------------------------------------------------------- trajectories (traj12) API
# planeco_kernel.bundle.planning (branch traj12) builds its ``lyon_flows`` table with these names.


def parse(path: Path) -> pd.DataFrame:
    """The land-consumption extract, checked (:func:`parse_conso`)."""
    return parse_conso(path)


def tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """Commune land-consumption rows in ha, validated (:func:`tidy_conso`)."""
    return base.validate_tidy(tidy_conso(wide), name=RELEASE.filename)


def flows_table(tidy_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per commune and year, one column per land-consumption variable (ha); the
    construction rows of :func:`load` are left out."""
    conso = tidy_frame[tidy_frame["variable"].astype(str).str.startswith("conso_naf_")]
    wide = conso.pivot_table(index=["commune_code", "year"], columns="variable", values="value").reset_index()
    wide.columns.name = None
    wide["commune_code"] = wide["commune_code"].astype("string")
    wide["year"] = wide["year"].astype("int16")
    return wide
