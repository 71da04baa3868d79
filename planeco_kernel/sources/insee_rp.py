"""INSEE census by commune — « Dossier complet » (bases de données communales du recensement).

File: ``dossier_complet.zip`` at https://www.insee.fr/fr/statistiques/fichier/5359146/dossier_complet.zip
(page https://www.insee.fr/fr/statistiques/5359146), member ``dossier_complet.csv``
(semicolon-separated, ``.`` as decimal mark, one row per commune, key column ``CODGEO``), with its
dictionary ``meta_dossier_complet.csv``. The archive is replaced every year; variables carry the
census year as a prefix: ``P21_POP`` (principal exploitation, census 2021), ``C21_MEN``
(complementary exploitation). The connector finds the census year from the ``P<yy>_POP`` column
and reads, for that year:

- age structure: ``P_POP``, ``P_POP0014``, ``P_POP1529``, ``P_POP3044``, ``P_POP4559``,
  ``P_POP6074``, ``P_POP7589``, ``P_POP90P``;
- households: ``C_MEN``;
- housing stock: ``P_LOG``, ``P_RP`` (main homes), ``P_RSECOCC`` (secondary and occasional homes),
  ``P_LOGVAC`` (vacant dwellings);
- employment and unemployment: ``P_POP1564``, ``P_ACT1564``, ``P_CHOM1564``, ``P_EMPLT`` (jobs at
  the place of work);
- commuting mode of employed residents: ``C_ACTOCC15P`` and ``C_ACTOCC15P_PAS`` (no transport),
  ``_MAR`` (walking), ``_VELO`` (bicycle), ``_2ROUESMOT`` (motorised two-wheelers), ``_VOIT`` (car),
  ``_TCOM`` (public transport). The bicycle category exists since census 2017.

References
----------
URL, member name, separator and decimal mark: public code that reads this archive (e.g. an R
script reading ``unz(f, "dossier_complet.csv")`` with ``delim = ";"`` and
``meta_dossier_complet.csv``; Python readers using ``sep=";"``, ``dtype={"CODGEO": str}``).
Variable codes: the same public code (``P21_POP0014`` …, ``C21_ACTOCC15P_VOIT``, ``_TCOM``,
``_VELO``, ``_2ROUESMOT``, ``P21_ACT1564``, ``P21_CHOM1564``, ``P21_LOG``, ``P21_RP``,
``P21_RSECOCC``, ``P21_LOGVAC``, ``P21_EMPLT``, and ``P22_*`` for the census-2022 edition) and
INSEE's variable naming of the « bases communales ». The archive itself was not opened on this
machine (no internet); a missing variable fails the load with the file and column named, so a
renamed one cannot pass silently.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "insee_rp"

URL = "https://www.insee.fr/fr/statistiques/fichier/5359146/dossier_complet.zip"

RELEASE = Release(
    SOURCE_ID, 0, URL, "dossier_complet.zip", mirror_path="insee/dossier_complet.zip",
    member="dossier_complet.csv", sep=";",
    note="",
)
"""The current archive; its census year (``vintage``) is read from the file itself."""

# stem (without the P<yy>_/C<yy>_ prefix) -> (prefix, variable, unit)
VARIABLES: dict[str, tuple[str, str, str]] = {
    "POP": ("P", "population", "personnes"),
    "POP0014": ("P", "population_0_14_ans", "personnes"),
    "POP1529": ("P", "population_15_29_ans", "personnes"),
    "POP3044": ("P", "population_30_44_ans", "personnes"),
    "POP4559": ("P", "population_45_59_ans", "personnes"),
    "POP6074": ("P", "population_60_74_ans", "personnes"),
    "POP7589": ("P", "population_75_89_ans", "personnes"),
    "POP90P": ("P", "population_90_ans_plus", "personnes"),
    "MEN": ("C", "menages", "ménages"),
    "LOG": ("P", "logements", "logements"),
    "RP": ("P", "residences_principales", "logements"),
    "RSECOCC": ("P", "residences_secondaires", "logements"),
    "LOGVAC": ("P", "logements_vacants", "logements"),
    "POP1564": ("P", "population_15_64_ans", "personnes"),
    "ACT1564": ("P", "actifs_15_64_ans", "personnes"),
    "CHOM1564": ("P", "chomeurs_15_64_ans", "personnes"),
    "EMPLT": ("P", "emplois_au_lieu_de_travail", "emplois"),
    "ACTOCC15P": ("C", "actifs_occupes_15_ans_plus", "personnes"),
    "ACTOCC15P_PAS": ("C", "navetteurs_sans_transport", "personnes"),
    "ACTOCC15P_MAR": ("C", "navetteurs_marche", "personnes"),
    "ACTOCC15P_VELO": ("C", "navetteurs_velo", "personnes"),
    "ACTOCC15P_2ROUESMOT": ("C", "navetteurs_deux_roues_motorises", "personnes"),
    "ACTOCC15P_VOIT": ("C", "navetteurs_voiture", "personnes"),
    "ACTOCC15P_TCOM": ("C", "navetteurs_transports_en_commun", "personnes"),
}


def columns_for(census_year: int) -> dict[str, tuple[str, str]]:
    """Official column names for a census year -> (variable, unit)."""
    yy = f"{census_year % 100:02d}"
    return {f"{prefix}{yy}_{stem}": (var, unit) for stem, (prefix, var, unit) in VARIABLES.items()}


def census_year(header: list[str], *, name: str) -> int:
    """The census year of a dossier complet: the latest ``P<yy>_POP`` column.

    The file also holds earlier censuses for comparison (``P15_POP`` next to ``P21_POP``).
    """
    years = base.year_prefix_columns(header, r"P(\d\d)_POP")
    if not years:
        raise SchemaError(
            f"{name}: cannot find the census year: no column P<yy>_POP (found {header[:8]} …). "
            "The layout of the dossier complet changed."
        )
    return years[-1]


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, int]:
    """Parse and validate the dossier complet; return (wide frame, census year).

    Only the columns planeco uses are kept (the file has ~1,900).
    """
    table = base.TableFile(path, name=rel.filename, member=rel.member)
    header, _ = base.peek_header(table, sep=rel.sep, encodings=rel.encodings)
    label = table.name
    year = census_year(header, name=label)
    cols = columns_for(year)
    required = ["CODGEO", *cols]
    df = base.read_csv(path, rel, required=required, usecols=required)
    df["commune_code"] = base.check_codes(df["CODGEO"], name=label, column="CODGEO")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{label}: duplicated CODGEO, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, cols, name=label)
    base.check_ranges(df, {c: (0, 1e7) for c in cols}, name=label)
    _check_consistency(df, year, name=label)
    return df[["commune_code", *cols]], year


def _check_consistency(df: pd.DataFrame, year: int, *, name: str) -> None:
    """Sub-totals may not exceed their totals (a shifted column would break this)."""
    yy = f"{year % 100:02d}"
    pairs = [
        (f"P{yy}_RP", f"P{yy}_LOG"), (f"P{yy}_RSECOCC", f"P{yy}_LOG"), (f"P{yy}_LOGVAC", f"P{yy}_LOG"),
        (f"P{yy}_POP0014", f"P{yy}_POP"), (f"P{yy}_CHOM1564", f"P{yy}_ACT1564"), (f"P{yy}_ACT1564", f"P{yy}_POP1564"),
    ]
    bad = [f"{part} > {total}" for part, total in pairs if (df[part] > df[total] + 0.5).any()]
    if bad:
        raise SchemaError(f"{name}: inconsistent columns ({', '.join(bad)}): the file's columns are shifted or mislabelled.")


def tidy(wide: pd.DataFrame, year: int) -> pd.DataFrame:
    """The tidy long frame of a parsed dossier complet."""
    long = base.melt(wide, key="commune_code", year=year, variables=columns_for(year))
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or INSEE), parse, validate and tidy the census dossier complet."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    wide, year = parse(artifact.path)
    return tidy(wide, year)
