"""Agence ORE — annual electricity and gas consumption by commune and sector.

Dataset « Consommation annuelle d'électricité et gaz par commune et par secteur d'activité »
(``conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune``) of the Agence ORE (the French
distribution network operators' agency), consolidated from all distribution operators, from 2011.
CSV export of the Opendatasoft portal, all years and communes in one file:
https://opendata.agenceore.fr/api/explore/v2.1/catalog/datasets/conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune/exports/csv?delimiter=%3B&use_labels=false

Layout (semicolon-separated, UTF-8, field names as header): one row per operator × year × energy
(``filiere``: ``Electricité`` or ``Gaz``) × commune, wide by sector: ``operateur; annee; filiere;
consoa; pdla; nombre_maille_secretisees_a; indquala`` (agriculture), the same with suffix ``i``
(industrie), ``t`` (tertiaire), ``r`` (résidentiel, plus ``thermor``, ``partr``), ``na`` (non
affecté), ``consototale``, and ``code_commune; libelle_commune; code_epci; libelle_epci;
code_departement; libelle_departement; code_region; libelle_region; id_filiere; code_postal``.
Consumption is in **MWh**; ``pdl`` counts delivery points. Cells withheld by statistical secret
are empty.

Several operators can serve one commune: the tidy output sums them, giving for each commune and
year ``conso_{elec,gaz}_{agriculture,industrie,tertiaire,residentiel,non_affecte,total}_mwh`` and
``pdl_{elec,gaz}_{…}`` (delivery points).

References
----------
Field names (``consoa``, ``pdla``, ``nombre_maille_secretisees_a``, ``indquala`` … ``consona``,
``consototale``, ``code_commune``, ``id_filiere``, ``code_postal``), the ``;`` separator and the
``filiere == "Electricité"`` value: public code reading this export (R and Stata scripts, a
Databricks notebook using the export URL above). Units (MWh) from the dataset's documentation as
quoted in that code. The export was not downloaded on this machine (no internet).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "energy"

URL = (
    "https://opendata.agenceore.fr/api/explore/v2.1/catalog/datasets/"
    "conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune/exports/csv?delimiter=%3B&use_labels=false"
)

RELEASE = Release(
    SOURCE_ID, 0, URL, "conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune.csv",
    mirror_path="agence_ore/conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune.csv", sep=";",
)
"""All years in one export; ``vintage`` 0 means « current export »."""

SECTORS: dict[str, str] = {
    "a": "agriculture", "i": "industrie", "t": "tertiaire", "r": "residentiel", "na": "non_affecte",
}
FILIERES: dict[str, str] = {"Electricité": "elec", "Electricite": "elec", "Électricité": "elec", "Gaz": "gaz"}
KEY_COLUMNS = ("annee", "filiere", "code_commune")
CONSO_COLUMNS = [f"conso{s}" for s in SECTORS] + ["consototale"]
PDL_COLUMNS = [f"pdl{s}" for s in SECTORS]
REQUIRED = [*KEY_COLUMNS, *CONSO_COLUMNS, *PDL_COLUMNS]


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and validate the export; return rows summed over operators (one per commune × year × filière)."""
    df = base.read_csv(path, rel, required=REQUIRED, usecols=REQUIRED)
    name = rel.filename
    df["commune_code"] = base.check_codes(df["code_commune"], name=name, column="code_commune")
    unknown = sorted(set(df["filiere"].dropna()) - set(FILIERES))
    if unknown or df["filiere"].isna().any():
        raise SchemaError(f"{name}: unknown values in column 'filiere': {unknown or ['(vide)']} (expected {sorted(set(FILIERES))[:2]} …)")
    df["filiere"] = df["filiere"].map(FILIERES)
    df = base.to_numeric(df, ["annee", *CONSO_COLUMNS, *PDL_COLUMNS], name=name)
    base.check_ranges(
        df,
        {"annee": (2000, 2100), **{c: (0, 1e8) for c in CONSO_COLUMNS}, **{c: (0, 1e7) for c in PDL_COLUMNS}},
        name=name,
    )
    df["annee"] = df["annee"].astype("int16")
    summed = df.groupby(["commune_code", "annee", "filiere"], as_index=False)[CONSO_COLUMNS + PDL_COLUMNS].sum(min_count=1)
    return summed


def tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """Tidy long frame: ``conso_<filiere>_<secteur>_mwh`` and ``pdl_<filiere>_<secteur>``."""
    frames = []
    for fil, part in wide.groupby("filiere"):
        variables = {f"conso{s}": (f"conso_{fil}_{label}_mwh", "MWh") for s, label in SECTORS.items()}
        variables["consototale"] = (f"conso_{fil}_total_mwh", "MWh")
        variables.update({f"pdl{s}": (f"pdl_{fil}_{label}", "points de livraison") for s, label in SECTORS.items()})
        frames.append(base.melt(part, key="commune_code", year="annee", variables=variables))
    long = pd.concat(frames, ignore_index=True)
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or Agence ORE), parse, validate and tidy commune energy consumption."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    return tidy(parse(artifact.path))
