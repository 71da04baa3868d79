"""Greenhouse-gas emissions by commune and sector — Inventaire GES territorialisé (IGT).

The national inventory of the Citepa (SECTEN format), territorialised by commune for the
Ministry of ecological transition and published by ADEME: dataset « Inventaire de gaz à effet de
serre territorialisé » (https://www.data.gouv.fr/fr/datasets/inventaire-de-gaz-a-effet-de-serre-territorialise/),
file « IGT - Pouvoir de réchauffement global » on ADEME's data portal:
https://data.ademe.fr/data-fair/api/v1/datasets/igt-pouvoir-de-rechauffement-global/data-files/IGT%20-%20Pouvoir%20de%20r%C3%A9chauffement%20global.csv

Layout (comma-separated, UTF-8, one row per commune, 35,798 rows): ``INSEE commune, Commune,
Agriculture, Autres transports, Autres transports international, CO2 biomasse hors-total,
Déchets, Energie, Industrie hors-énergie, Résidentiel, Routier, Tertiaire``. Values are global
warming potential in **tonnes CO2 equivalent** (t CO2e); empty where not estimated.
« CO2 biomasse hors-total » is reported outside the total, as in the national inventory.

**Old vintage**: this publication territorialises the inventory of year 2016 (IGT report of
February 2019). The Citepa published a newer edition (IGT 2023, dataset « Émissions de gaz à effet
de serre annuelles par secteur » on data.gouv.fr) whose file layout could not be confirmed from this
machine; the connector therefore reads the 2016 layout and warns that it is old.

References
----------
Columns, separator and URLs: InseeFrLab's Python course (« Pratique de pandas », which reads the
CSV above with ``pd.read_csv`` and lists the twelve columns and 35,798 rows) and several student
projects reading the same file. The reference year 2016 follows the Citepa report « Rapport IGT
2018 » (February 2019) and the course's description; the file itself carries no year column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "ghg"

RELEASE = Release(
    SOURCE_ID, 2016,
    "https://data.ademe.fr/data-fair/api/v1/datasets/igt-pouvoir-de-rechauffement-global/data-files/"
    "IGT%20-%20Pouvoir%20de%20r%C3%A9chauffement%20global.csv",
    "IGT - Pouvoir de réchauffement global.csv", mirror_path="ademe/IGT - Pouvoir de réchauffement global.csv",
    sep=",",
    note=(
        "inventaire GES territorialisé de l'année 2016 (Citepa, édition 2019) : millésime ancien ; "
        "le Citepa a publié une édition plus récente (IGT 2023) que planeco ne lit pas encore."
    ),
)

SECTORS: dict[str, str] = {
    "Agriculture": "ges_agriculture_tco2e",
    "Autres transports": "ges_autres_transports_tco2e",
    "Autres transports international": "ges_autres_transports_international_tco2e",
    "CO2 biomasse hors-total": "co2_biomasse_hors_total_tco2e",
    "Déchets": "ges_dechets_tco2e",
    "Energie": "ges_energie_tco2e",
    "Industrie hors-énergie": "ges_industrie_hors_energie_tco2e",
    "Résidentiel": "ges_residentiel_tco2e",
    "Routier": "ges_routier_tco2e",
    "Tertiaire": "ges_tertiaire_tco2e",
}
CODE_COLUMN = "INSEE commune"
REQUIRED = [CODE_COLUMN, "Commune", *SECTORS]
TOTAL_SECTORS = [c for c in SECTORS if c != "CO2 biomasse hors-total"]


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and validate the IGT file; return a wide frame in t CO2e."""
    df = base.read_csv(path, rel, required=REQUIRED, usecols=REQUIRED)
    name = rel.filename
    df["commune_code"] = base.check_codes(df[CODE_COLUMN], name=name, column=CODE_COLUMN)
    df = base.to_numeric(df, SECTORS, name=name)
    # Negative values would mean sinks, which the IGT does not include; 1e8 t is 4x Fos-sur-Mer's total.
    base.check_ranges(df, {c: (-1.0, 1e8) for c in SECTORS}, name=name)
    return df[["commune_code", *SECTORS]]


def tidy(wide: pd.DataFrame, rel: Release = RELEASE) -> pd.DataFrame:
    """Tidy long frame: one variable per sector, plus ``ges_total_tco2e`` (sum of the sectors in the total)."""
    wide = wide.copy()
    wide["_total"] = wide[TOTAL_SECTORS].sum(axis=1, min_count=1)
    variables = {col: (var, "tCO2e") for col, var in SECTORS.items()}
    variables["_total"] = ("ges_total_tco2e", "tCO2e")
    long = base.melt(wide, key="commune_code", year=rel.vintage, variables=variables)
    return base.validate_tidy(long, name=rel.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or ADEME), parse, validate and tidy the territorialised GHG inventory."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    df = tidy(parse(artifact.path))
    base.warn_vintage(RELEASE)
    return df
