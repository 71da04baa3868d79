"""Cerema land consumption, real extract for the Métropole de Lyon (58 communes and their EPCI).

Source: MTES-MCT/sparte (« Mon diagnostic artificialisation »), commit 5fde3ff,
``public_data/fixtures/test_data.json.gz``, extracted without change to CSV in the mirror
(``cerema_lyon/conso_enaf_metropole_lyon_2009_2023.csv``); Licence Ouverte 2.0 (Cerema).

Layout: ``land_id, land_type (COMM|EPCI), surface (m²), year, total, activite, habitat, mixte,
route, ferroviaire, inconnu``: the Cerema « fichiers fonciers » flow of year N (1 January N →
1 January N+1) in **m²**, 2009–2023, one row per land and year. Checked here: ``total`` equals the
sum of the six destinations exactly, and the 58 communes sum exactly to the EPCI row (200046977)
every year; 2011–2020 = 827.7 ha.

This is the offline stand-in for the national Cerema commune file
(:mod:`planeco_kernel.sources.cerema_conso`, same quantities): the tidy output uses the same
variable names (``conso_naf_ha``, ``conso_naf_habitat_ha`` …) in hectares.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "cerema_lyon"
"""Registry id (``sources/registry.yaml``: title, publisher, licence, declared sha256)."""
EPCI_SIREN = "200046977"
RELEASE = Release(SOURCE_ID, 2023, "https://github.com/MTES-MCT/sparte/raw/5fde3ff/public_data/fixtures/test_data.json.gz",
                  "conso_enaf_metropole_lyon_2009_2023.csv", mirror_path="cerema_lyon/conso_enaf_metropole_lyon_2009_2023.csv",
                  sep=",", encodings=("utf-8",), extra={"mirror_only": True})
DESTINATIONS = {"activite": "activite", "habitat": "habitat", "mixte": "mixte", "route": "routes",
                "ferroviaire": "ferre", "inconnu": "inconnu"}
COLUMNS = ("land_id", "land_type", "surface", "year", "total", *DESTINATIONS)


def parse(path: Path) -> pd.DataFrame:
    """Parse and check the extract; return the wide frame in m² (communes and EPCI rows)."""
    name = RELEASE.filename
    df = base.read_csv(path, RELEASE, required=list(COLUMNS), usecols=list(COLUMNS))
    df = base.to_numeric(df, ["year", "total", *DESTINATIONS], name=name)
    if set(df["land_type"]) != {"COMM", "EPCI"}:
        raise SchemaError(f"{name}: land_type attendu COMM ou EPCI, trouvé {sorted(set(df['land_type']))}.")
    if df.duplicated(["land_id", "year"]).any():
        raise SchemaError(f"{name}: plusieurs lignes pour un même territoire et une même année.")
    gap = (df["total"] - df[list(DESTINATIONS)].sum(axis=1)).abs()
    if (gap > 0.5).any():
        bad = df.loc[gap > 0.5, ["land_id", "year"]].head(3).values.tolist()
        raise SchemaError(f"{name}: total différent de la somme des six destinations, ex. {bad}.")
    comm = df[df["land_type"] == "COMM"]
    epci = df[(df["land_type"] == "EPCI") & (df["land_id"] == EPCI_SIREN)].set_index("year")
    s = comm.groupby("year")[["total", *DESTINATIONS]].sum()
    diff = (s - epci[["total", *DESTINATIONS]].reindex(s.index)).abs().max().max()
    if epci.empty or diff > 0.5:
        raise SchemaError(f"{name}: la somme des communes diffère de la ligne EPCI {EPCI_SIREN} (écart {diff} m²).")
    base.check_codes(comm["land_id"], name=name, column="land_id")
    df["year"] = df["year"].astype(int)
    return df


def tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """Commune rows only, long format in ha (``commune_code, year, variable, value, unit``)."""
    comm = wide[wide["land_type"] == "COMM"]
    cols = {"total": ("conso_naf_ha", "ha"), **{k: (f"conso_naf_{v}_ha", "ha") for k, v in DESTINATIONS.items()}}
    frames = []
    for col, (var, unit) in cols.items():
        frames.append(pd.DataFrame({"commune_code": comm["land_id"].astype("string"), "year": comm["year"].astype("int16"),
                                    "variable": var, "value": comm[col].astype("float64") / 10_000.0, "unit": unit}))
    return base.validate_tidy(pd.concat(frames, ignore_index=True), name=RELEASE.filename)


def flows_table(tidy_frame: pd.DataFrame) -> pd.DataFrame:
    """The bundle table ``lyon_flows``: commune, year and the NAF flow of each destination (ha)."""
    wide = tidy_frame.pivot_table(index=["commune_code", "year"], columns="variable", values="value").reset_index()
    wide.columns.name = None
    wide["commune_code"] = wide["commune_code"].astype("string")
    wide["year"] = wide["year"].astype("int16")
    return wide


def load(*, mirror: str | Path | None = None, cache=None) -> pd.DataFrame:
    from planeco_kernel.sources import identity

    artifact = base.obtain(RELEASE, mirror=mirror, cache=cache)
    identity.verify(str(RELEASE.mirror_path), artifact.sha256, where=RELEASE.filename)
    return tidy(parse(artifact.path))
