"""INSEE census by commune — « Dossier complet » (bases de données communales du recensement).

File: ``dossier_complet.zip`` at https://www.insee.fr/fr/statistiques/fichier/5359146/dossier_complet.zip
(page https://www.insee.fr/fr/statistiques/5359146), member ``dossier_complet.csv``
(semicolon-separated, ``.`` as decimal mark, one row per commune, key column ``CODGEO``), with its
dictionary ``meta_dossier_complet.csv``. The archive is replaced every year; variables carry the
census year as a prefix: ``P21_POP`` (principal exploitation, census 2021), ``C21_MEN``
(complementary exploitation). The connector finds the census year from the latest ``P<yy>_POP``
column. The layout it reads is declared below in three parts:

1. Current census, **required** (:data:`VARIABLES`), for year ``y``:

   - age structure: ``P_POP``, ``P_POP0014``, ``P_POP1529``, ``P_POP3044``, ``P_POP4559``,
     ``P_POP6074``, ``P_POP7589``, ``P_POP90P``;
   - households: ``C_MEN``;
   - housing stock: ``P_LOG``, ``P_RP`` (main homes), ``P_RSECOCC`` (secondary and occasional
     homes), ``P_LOGVAC`` (vacant dwellings);
   - employment and unemployment: ``P_POP1564``, ``P_ACT1564``, ``P_CHOM1564``, ``P_EMPLT`` (jobs
     at the place of work);
   - commuting mode of employed residents: ``C_ACTOCC15P`` and ``C_ACTOCC15P_PAS`` (no transport),
     ``_MAR`` (walking), ``_VELO`` (bicycle), ``_2ROUESMOT`` (motorised two-wheelers), ``_VOIT``
     (car), ``_TCOM`` (public transport). The bicycle category exists since census 2017.

2. Earlier census of the same file (:data:`EARLIER_VARIABLES`), year ``y - 6``
   (:data:`EARLIER_CENSUS_GAP`: the 2021 edition compares with 2015, the 2022 edition with 2016):
   ``P<yy>_POP``, ``C<yy>_MEN``, ``P<yy>_EMPLT``. They are read when the file holds a
   ``P<yy-6>_POP`` column; then the three are required and a missing one fails the load, naming
   the file and the columns. A file without that census yields rows for year ``y`` only, and the
   indicators « par nouveau ménage / nouvel emploi » are unavailable.

3. Optional bands of the current census (:data:`OPTIONAL_VARIABLES`): ``P_POP65P`` (65 years or
   more) and ``P_POP0019`` (0–19 years), read when present, checked against the required bands
   (``P_POP65P`` must lie between ``P_POP7589 + P_POP90P`` and ``P_POP6074 + P_POP7589 +
   P_POP90P``; ``P_POP0019`` between ``P_POP0014`` and ``P_POP0014 + P_POP1529``) and otherwise
   absent from the tidy output, so that the ageing indicators built on them (share of 65+,
   ageing index) say « indisponible » instead of being estimated from the 15-year bands.

References
----------
What was checked (public code and dictionaries found by search, the archive itself was not
opened on this machine, which has no access to insee.fr):

- URL, member name, separator, decimal mark and the ``meta_dossier_complet.csv`` dictionary:
  public R and Python code reading ``unz(f, "dossier_complet.csv")`` with ``delim = ";"``.
- Age bands of the dossier complet: scripts that read ``dossier_complet.csv`` and look up
  ``meta_dossier_complet.csv`` (``LIB_VAR`` « Pop 60-74 ans en 2021 », « Pop 75-89 ans … »,
  « Pop 90 ans ou plus … ») use ``P21_POP0014`` … ``P21_POP6074``, ``P21_POP7589``,
  ``P21_POP90P`` and compute the 60+ share as their sum: the commune files publish 15-year bands.
  Hence 75 years or more = ``P_POP7589 + P_POP90P`` exactly.
- ``P<yy>_POP65P``, ``P<yy>_POP0019``, ``P<yy>_POP2064``, ``P<yy>_POP75P`` are confirmed in the
  **IRIS** bases « Évolution et structure de la population » (``base-ic-evol-struct-pop``, with
  ``IRIS``, ``COM``, ``P19_POP0002`` … ``P19_POP80P``, ``P19_POP0019``, ``P19_POP65P``; dictionary
  labels « Pop 0-19 ans en 2016 (princ) », « Pop 75 ans ou plus … »), **not** in the dossier
  complet: no public reader of ``dossier_complet.csv`` found uses them. They are therefore
  optional here, never assumed.
- The couples-familles-ménages bases have ``P<yy>_POP1524``, ``P<yy>_POP2554``,
  ``P<yy>_POP5579``, ``P<yy>_POP80P`` (labels « Pop 55-79 ans en 2016 (princ) »): no cut at 65 or
  20 either, so they cannot replace the missing bands.
- Earlier census in the same file: a reader of ``dossier_complet.csv`` filters
  ``P(21|15|10)_POP…`` columns; ``P15_POP`` and ``P15_EMPLT`` appear next to ``P21_POP`` and
  ``P21_EMPLT`` in the communal comparison base and in ``base-cc-emploi-pop-active-2021`` (« the
  same set of variables for 2015 and 2010 (``P15_EMPLT_*``, ``P10_EMPLT_*``) »); ``C10_MEN``,
  ``C15_MEN``, ``C21_MEN`` appear together in a table built from the census household base.
  ``P15_LOG`` / ``P15_RP`` were not confirmed and are not read.
- Variable codes of the current census: ``P21_POP0014`` …, ``C21_ACTOCC15P_VOIT``, ``_TCOM``,
  ``_VELO``, ``_2ROUESMOT``, ``P21_ACT1564``, ``P21_CHOM1564``, ``P21_LOG``, ``P21_RP``,
  ``P21_RSECOCC``, ``P21_LOGVAC``, ``P21_EMPLT`` (and ``P22_*`` for the census-2022 edition).

A missing required variable fails the load with the file and columns named, so a renamed one
cannot pass silently.
"""

from __future__ import annotations

from dataclasses import dataclass
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


EARLIER_CENSUS_GAP = 6
"""Years between the current census of a dossier complet and the earlier one it repeats."""

# The earlier census in the same file: read when ``P<yy-6>_POP`` is there, then all required.
EARLIER_VARIABLES: dict[str, tuple[str, str, str]] = {
    "POP": ("P", "population", "personnes"),
    "MEN": ("C", "menages", "ménages"),
    "EMPLT": ("P", "emplois_au_lieu_de_travail", "emplois"),
}

# Bands of the current census read only when present (not confirmed in the dossier complet).
OPTIONAL_VARIABLES: dict[str, tuple[str, str, str]] = {
    "POP65P": ("P", "population_65_ans_plus", "personnes"),
    "POP0019": ("P", "population_0_19_ans", "personnes"),
}

# A sum of rounded weighted counts may differ from its total by this much.
_TOLERANCE = 1.0


@dataclass(frozen=True)
class Layout:
    """The columns read from one dossier complet.

    Attributes
    ----------
    year
        Census year of the file (latest ``P<yy>_POP``).
    earlier_year
        ``year - EARLIER_CENSUS_GAP`` when the file holds that census, else ``None``.
    columns
        ``{census year: {official column: (variable, unit)}}``.
    """

    year: int
    earlier_year: int | None
    columns: dict[int, dict[str, tuple[str, str]]]

    @property
    def all_columns(self) -> list[str]:
        return [c for cols in self.columns.values() for c in cols]


def columns_for(census_year: int, variables: dict[str, tuple[str, str, str]] | None = None) -> dict[str, tuple[str, str]]:
    """Official column names for a census year -> (variable, unit); default: the required set."""
    yy = f"{census_year % 100:02d}"
    table = VARIABLES if variables is None else variables
    return {f"{prefix}{yy}_{stem}": (var, unit) for stem, (prefix, var, unit) in table.items()}


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


def layout(header: list[str], *, name: str) -> Layout:
    """The declared layout of a dossier complet, given its header.

    Required columns of the current census are always listed (a missing one fails the read);
    optional bands only when present; the earlier census when its ``P<yy>_POP`` is present.
    """
    year = census_year(header, name=name)
    present = set(header)
    current = columns_for(year)
    current.update({c: v for c, v in columns_for(year, OPTIONAL_VARIABLES).items() if c in present})
    columns = {year: current}
    earlier: int | None = year - EARLIER_CENSUS_GAP
    if f"P{earlier % 100:02d}_POP" in present:
        columns[earlier] = columns_for(earlier, EARLIER_VARIABLES)
    else:
        earlier = None
    return Layout(year, earlier, columns)


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, Layout]:
    """Parse and validate the dossier complet; return (wide frame, layout).

    Only the columns planeco uses are kept (the file has ~1,900).
    """
    table = base.TableFile(path, name=rel.filename, member=rel.member)
    header, _ = base.peek_header(table, sep=rel.sep, encodings=rel.encodings)
    label = table.name
    lay = layout(header, name=label)
    cols = lay.all_columns
    required = ["CODGEO", *cols]
    df = base.read_csv(path, rel, required=required, usecols=required)
    df["commune_code"] = base.check_codes(df["CODGEO"], name=label, column="CODGEO")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{label}: duplicated CODGEO, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, cols, name=label)
    base.check_ranges(df, {c: (0, 1e7) for c in cols}, name=label)
    _check_consistency(df, lay, name=label)
    return df[["commune_code", *cols]], lay


def _check_consistency(df: pd.DataFrame, lay: Layout, *, name: str) -> None:
    """Sub-totals may not exceed their totals, optional bands must fit the 15-year bands.

    A shifted or mislabelled column would break one of these.
    """
    yy = f"{lay.year % 100:02d}"

    def c(stem: str) -> pd.Series:
        return df[f"P{yy}_{stem}"]

    pairs = [
        (f"P{yy}_RP", f"P{yy}_LOG"), (f"P{yy}_RSECOCC", f"P{yy}_LOG"), (f"P{yy}_LOGVAC", f"P{yy}_LOG"),
        (f"P{yy}_POP0014", f"P{yy}_POP"), (f"P{yy}_CHOM1564", f"P{yy}_ACT1564"), (f"P{yy}_ACT1564", f"P{yy}_POP1564"),
        (f"C{yy}_MEN", f"P{yy}_POP"),
    ]
    if lay.earlier_year is not None:
        ey = f"{lay.earlier_year % 100:02d}"
        pairs.append((f"C{ey}_MEN", f"P{ey}_POP"))
    bad = [f"{part} > {total}" for part, total in pairs if (df[part] > df[total] + 0.5).any()]
    bands = {
        f"P{yy}_POP65P": (c("POP7589") + c("POP90P"), c("POP6074") + c("POP7589") + c("POP90P")),
        f"P{yy}_POP0019": (c("POP0014"), c("POP0014") + c("POP1529")),
    }
    for col, (low, high) in bands.items():
        if col in df.columns and ((df[col] < low - _TOLERANCE) | (df[col] > high + _TOLERANCE)).any():
            bad.append(f"{col} outside the bounds of the 15-year bands")
    if bad:
        raise SchemaError(f"{name}: inconsistent columns ({', '.join(bad)}): the file's columns are shifted or mislabelled.")


def tidy(wide: pd.DataFrame, lay: Layout) -> pd.DataFrame:
    """The tidy long frame of a parsed dossier complet: one block of rows per census year."""
    parts = [base.melt(wide, key="commune_code", year=year, variables=cols) for year, cols in sorted(lay.columns.items())]
    return base.validate_tidy(pd.concat(parts, ignore_index=True), name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or INSEE), parse, validate and tidy the census dossier complet."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    wide, lay = parse(artifact.path)
    return tidy(wide, lay)
