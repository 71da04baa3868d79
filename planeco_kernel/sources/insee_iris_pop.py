"""INSEE census by IRIS — « Évolution et structure de la population » (base infracommunale), summed to communes.

Why this source: the census « dossier complet » by commune (:mod:`planeco_kernel.sources.insee_rp`)
publishes 15-year age bands (0-14, 15-29 … 60-74, 75-89, 90+), not the « 65 ans ou plus » and
« 0-19 ans » bands that the INSEE share of 65+ and ageing index (65+ per 100 under-20) need. The
IRIS base publishes both, for every IRIS of France; this connector sums them to communes.

Files (one archive per census, replaced by a new page each year):

- census 2022: https://www.insee.fr/fr/statistiques/fichier/8647014/base-ic-evol-struct-pop-2022_csv.zip
  (page https://www.insee.fr/fr/statistiques/8647014), member ``base-ic-evol-struct-pop-2022.CSV``;
- census 2021: https://www.insee.fr/fr/statistiques/fichier/8268806/base-ic-evol-struct-pop-2021_csv.zip
  (page https://www.insee.fr/fr/statistiques/8268806), member ``base-ic-evol-struct-pop-2021.CSV``.

Layout: semicolon-separated, ``.`` as decimal mark, one row per IRIS, 76 columns
``IRIS;COM;TYP_IRIS;LAB_IRIS;P22_POP;P22_POP0002;P22_POP0305;P22_POP0610;P22_POP1117;P22_POP1824;
P22_POP2539;P22_POP4054;P22_POP5564;P22_POP6579;P22_POP80P;P22_POP0014;P22_POP1529;P22_POP3044;
P22_POP4559;P22_POP6074;P22_POP75P;P22_POP0019;P22_POP2064;P22_POP65P;P22_POPH;…;P22_PMEN;
P22_PHORMEN``. ``IRIS`` is the 9-character IRIS code (the commune code followed by 4 digits,
``0000`` for a commune not split into IRIS, ``TYP_IRIS`` ``Z``); ``COM`` the commune code, or for
Paris, Lyon and Marseille the arrondissement municipal (``75110``). Counts are weighted: decimals
in communes of 10,000 inhabitants or more (``2057.93753915075``), integers elsewhere.

What this connector reads (:data:`VARIABLES`, census year ``y`` taken from the ``P<yy>_POP``
column): ``P_POP`` (total), ``P_POP0019``, ``P_POP2064``, ``P_POP65P``, ``P_POP75P``, and ``COM``,
``IRIS``. Checks (a failure raises :class:`~planeco_kernel.errors.SchemaError` naming the file and
the columns): IRIS and COM code patterns, IRIS code starting with its COM, no duplicated IRIS,
counts in [0, 10⁷] (pandera), ``P_POP75P ≤ P_POP65P``, and ``0-19 + 20-64 + 65+ = total`` (the
three bands cover every age by definition, so a shifted or mislabelled column breaks it). IRIS
rows are then summed per ``COM`` (a commune's value is missing if one of its IRIS is). The
arrondissements of Paris, Lyon and Marseille stay as published; the indicator components fold
them into their commune through the bundle's ``code_history``
(:func:`planeco_kernel.indicators.components.to_current_geography`).

Tidy output (:mod:`planeco_kernel.sources.base`): ``population_0_19_ans``,
``population_20_64_ans``, ``population_65_ans_plus``, ``population_75_ans_plus`` and
``population_somme_iris`` (``P_POP`` summed over the IRIS: the census population of the
commune, named apart from :mod:`insee_rp`'s ``population`` so that two sources never write the same
component), unit ``personnes``, year = census year.

References
----------
What was checked (public code found by search; the archives were not opened on this machine,
which has no access to insee.fr):

- 2022 URL, member ``base-ic-evol-struct-pop-2022.CSV``, ``;`` separator and the exact 76-column
  header above (with sample rows ``010010000;01001;Z;5;859;…`` and
  ``010040101;01004;H;1;2057.93753915075;…``): a project's data notes reading the file, and
  scripts opening ``zipfile.ZipFile(...).open("base-ic-evol-struct-pop-2022.CSV")`` with
  ``sep=";"`` and ``usecols=["COM", "P22_POP"]``; other readers use ``P22_POP0019``,
  ``P22_POP2064``, ``P22_POP65P``, ``P22_POP75P`` and sum IRIS rows by ``COM``.
- 2021 URL and member ``base-ic-evol-struct-pop-2021.CSV`` (``unzip … ; mv
  base-ic-evol-struct-pop-2021.CSV``), and the 2021 header ``iris, com, typ_iris, lab_iris,
  p21_pop, p21_pop0002 … p21_pop75p, p21_pop0019, p21_pop2064, p21_pop65p, p21_poph …`` (a
  PostgreSQL ``\\copy`` of the CSV), dictionary labels « Nombre de personnes de 65 ans ou plus
  (2021) », « … de 0 à 19 ans (2021) ».
- The 2020 edition has the same layout with ``P20_`` (page 7704076).
- ``COM`` holds arrondissement codes for Paris (``75110``): data notes of a Paris project.

Not confirmed: the archive's text encoding (readers use UTF-8 or Latin-1; both are tried, and the
columns read are ASCII), whether the archive holds other members than the CSV and its
dictionary (the member is matched by name, so extra members are ignored), and whether a 2023
edition exists yet. That ``P_POP0019 + P_POP2064 + P_POP65P`` equals ``P_POP`` is a property of
the definitions, checked here with a tolerance of half a person per IRIS, not measured on the
real file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "insee_iris_pop"

IRIS_CODE_PATTERN = r"^[0-9][0-9AB][0-9]{7}$"
"""IRIS code: the commune (or arrondissement) code and 4 digits (``0000`` for a commune not split)."""

_MEMBER = "base-ic-evol-struct-pop-20[0-9][0-9].[cC][sS][vV]"


def _release(year: int, page: str) -> Release:
    name = f"base-ic-evol-struct-pop-{year}_csv.zip"
    return Release(
        SOURCE_ID, year, f"https://www.insee.fr/fr/statistiques/fichier/{page}/{name}", name,
        mirror_path=f"insee/{name}", member=_MEMBER, sep=";",
    )


RELEASES: dict[int, Release] = {2022: _release(2022, "8647014"), 2021: _release(2021, "8268806")}
"""Editions by census year, newest first."""

LATEST = max(RELEASES)
RELEASE = RELEASES[LATEST]

# stem (without the P<yy>_ prefix) -> (variable, unit)
VARIABLES: dict[str, tuple[str, str]] = {
    "POP": ("population_somme_iris", "personnes"),
    "POP0019": ("population_0_19_ans", "personnes"),
    "POP2064": ("population_20_64_ans", "personnes"),
    "POP65P": ("population_65_ans_plus", "personnes"),
    "POP75P": ("population_75_ans_plus", "personnes"),
}

# Half a person per IRIS: weighted counts are published with many decimals, sums may differ by rounding.
_TOLERANCE = 0.5


def releases() -> list[Release]:
    """The editions :func:`planeco_kernel.sources.catalog.available` checks, newest first."""
    return [RELEASES[y] for y in sorted(RELEASES, reverse=True)]


def columns_for(census_year: int) -> dict[str, tuple[str, str]]:
    """Official column names for a census year -> (variable, unit)."""
    yy = f"{census_year % 100:02d}"
    return {f"P{yy}_{stem}": spec for stem, spec in VARIABLES.items()}


def census_year(header: list[str], *, name: str) -> int:
    """The census year of the file, from its ``P<yy>_POP`` column (there is exactly one)."""
    years = base.year_prefix_columns(header, r"P(\d\d)_POP")
    if len(years) != 1:
        raise SchemaError(
            f"{name}: expected one column P<yy>_POP giving the census year, found "
            f"{[f'P{y % 100:02d}_POP' for y in years] or 'none'} (header: {header[:8]} …). "
            "The layout of the IRIS population base changed."
        )
    return years[0]


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, int]:
    """Parse and validate one IRIS file; return (IRIS-level frame of the needed columns, census year).

    Raises
    ------
    SchemaError
        Missing or renamed columns, bad codes, negative or inconsistent counts, or a file of
        another census than its release.
    TruncatedFileError
        Truncated archive or file.
    """
    table = base.TableFile(path, name=rel.filename, member=rel.member)
    header, _ = base.peek_header(table, sep=rel.sep, encodings=rel.encodings)
    label = table.name
    year = census_year(header, name=label)
    if rel.vintage and year != rel.vintage:
        raise SchemaError(
            f"{label}: the file holds census {year} (P{year % 100:02d}_POP), not {rel.vintage} as its name says. "
            "Put the matching edition in the mirror, or load it with its own vintage."
        )
    cols = list(columns_for(year))
    required = ["IRIS", "COM", *cols]
    df = base.read_csv(path, rel, required=required, usecols=required)
    df["COM"] = base.check_codes(df["COM"], name=label, column="COM")
    df["IRIS"] = base.check_codes(df["IRIS"], name=label, column="IRIS", pattern=IRIS_CODE_PATTERN)
    foreign = df["IRIS"].str[:5] != df["COM"]
    if foreign.any():
        sample = df.loc[foreign, ["IRIS", "COM"]].head(3).values.tolist()
        raise SchemaError(f"{label}: {int(foreign.sum())} IRIS codes do not start with their COM, e.g. {sample}: "
                          "columns IRIS and COM are shifted or mislabelled.")
    dup = df["IRIS"].duplicated()
    if dup.any():
        raise SchemaError(f"{label}: duplicated IRIS, e.g. {df.loc[dup, 'IRIS'].head(3).tolist()}")
    df = base.to_numeric(df, cols, name=label)
    base.check_ranges(df, {c: (0, 1e7) for c in cols}, name=label)
    _check_consistency(df, year, name=label)
    return df[["IRIS", "COM", *cols]], year


def _check_consistency(df: pd.DataFrame, year: int, *, name: str) -> None:
    """75+ within 65+, and 0-19 + 20-64 + 65+ = total: a shifted or mislabelled column breaks one."""
    yy = f"{year % 100:02d}"

    def c(stem: str) -> pd.Series:
        return df[f"P{yy}_{stem}"]

    bad = []
    if (c("POP75P") > c("POP65P") + _TOLERANCE).any():
        bad.append(f"P{yy}_POP75P > P{yy}_POP65P")
    gap = (c("POP0019") + c("POP2064") + c("POP65P") - c("POP")).abs()
    if (gap > _TOLERANCE).any():
        bad.append(f"P{yy}_POP0019 + P{yy}_POP2064 + P{yy}_POP65P != P{yy}_POP "
                   f"(IRIS {df.loc[gap > _TOLERANCE, 'IRIS'].head(3).tolist()})")
    if bad:
        raise SchemaError(f"{name}: inconsistent columns ({'; '.join(bad)}): the file's columns are shifted or mislabelled.")


def to_communes(iris: pd.DataFrame, year: int) -> pd.DataFrame:
    """Sum IRIS rows per commune (``COM``); a commune's value is missing if one of its IRIS is."""
    cols = list(columns_for(year))
    grouped = iris.groupby("COM", sort=True)[cols]
    out = grouped.sum(min_count=1).where(grouped.count() == grouped.size().to_numpy()[:, None])
    return out.rename_axis("commune_code").reset_index()


def tidy(communes: pd.DataFrame, year: int, *, name: str = RELEASE.filename) -> pd.DataFrame:
    """The tidy long frame of the commune sums."""
    long = base.melt(communes, key="commune_code", year=year, variables=columns_for(year))
    return base.validate_tidy(long, name=name)


def _url_name(url: str) -> str:
    import urllib.parse

    return Path(urllib.parse.urlparse(url).path).name or RELEASE.filename


def pick_release(mirror: str | Path | None = None, cache=None) -> Release:
    """The edition to read: the newest one in the mirror or the download cache, else the newest."""
    from planeco_kernel.sources.fetch import Cache, _cache_name_for_url

    root = base.resolve_mirror(mirror)
    store = cache or Cache()
    for rel in releases():
        if root is not None and rel.mirror_path and (root / rel.mirror_path).is_file():
            return rel
        path = store.path_for("url", _cache_name_for_url(rel.url))
        if path.is_file() and path.with_name(path.name + ".sha256").is_file():
            return rel
    return RELEASE


def load(vintage: int | None = None, *, mirror: str | Path | None = None, url: str | None = None,
         cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or INSEE), parse, validate, sum to communes and tidy one edition.

    Parameters
    ----------
    vintage
        Census year of the edition (:data:`RELEASES`); default: the newest edition already in the
        mirror or the download cache, else the newest published one.
    url
        Override of the official URL (a test server, a ``file://`` copy); the census year is
        then read from the file.

    Raises
    ------
    SourceUnavailableError
        Unknown edition, or the file cannot be reached.
    """
    if vintage is None:
        rel = pick_release(mirror, cache) if url is None else Release(
            SOURCE_ID, 0, url, _url_name(url), member=_MEMBER, sep=";")
    elif vintage in RELEASES:
        rel = RELEASES[vintage]
    else:
        raise SourceUnavailableError(
            f"Base IRIS « Évolution et structure de la population » : millésime {vintage} inconnu de planeco "
            f"(millésimes connus : {', '.join(str(y) for y in sorted(RELEASES))})."
        )
    artifact = base.obtain(rel, mirror=mirror, url=url, cache=cache)
    iris, year = parse(artifact.path, rel)
    return tidy(to_communes(iris, year), year, name=rel.filename)
