"""Cerema — consommation d'espaces naturels, agricoles et forestiers (NAF) by commune and year.

Source: the « fichiers fonciers » indicators of the Observatoire national de l'artificialisation
des sols (Cerema), published on data.gouv.fr, one CSV for all communes:
``conso2009_2024_resultats_com.csv`` (« Consommation d'espaces naturels, agricoles et forestiers
du 1er janvier 2009 au 1er janvier 2024 »), stable resource URL
https://www.data.gouv.fr/api/1/datasets/r/8c67a68a-bb1a-4b7e-b221-62ccfb8bc4f9.

Layout (semicolon-separated, UTF-8, names quoted when they contain quotes; one row per commune):
``idcom;idcomtxt;idreg;idregtxt;iddep;iddeptxt;epci<yy>;epci<yy>txt;scot;aav2020;…`` then, for
each year ``yy`` from 09, the flow from 1 January 20yy to 1 January 20yy+1, in **m²**:
``naf<yy>art<yy+1>`` (total NAF consumed) and by destination ``art<yy>act<yy+1>`` (activité),
``art<yy>hab<yy+1>`` (habitat), ``art<yy>mix<yy+1>`` (mixte), ``art<yy>rou<yy+1>`` (routes),
``art<yy>fer<yy+1>`` (ferré), ``art<yy>inc<yy+1>`` (inconnu); then period totals
(``naf09art23`` …) and context columns (``pop14``, ``men14`` …). The total equals the sum of the
destinations; small negative values (−1 m²) occur from rounding.

The tidy output gives, for year 20yy (the flow during that year), hectares:
``conso_naf_ha`` and ``conso_naf_{habitat,activite,mixte,routes,ferre,inconnu}_ha``.

References
----------
- Header of the 2009–2023 commune file (``idcom;idcomtxt;…;naf09art10;art09act10;art09hab10;
  art09mix10;art09rou10;art09fer10;art09inc10;…;naf22art23;…``) and two of its rows: public
  analysis code that embeds them; MTES-MCT « Mon diagnostic artificialisation » (sparte) maps the
  same columns; MTES-MCT zero-logement-vacant reads the 2009–2024 file from the data.gouv.fr URL
  above with ``delim=";"``. Unit m²: the same analyses label these values « Surface ENAF consommée (m²) ».
- The 2009–2024 file was not opened on this machine (no internet): its year columns are found by
  pattern (``naf<yy>art<yy+1>``), so a new year is read without a code change, and a missing
  destination column fails with its name.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "cerema_conso"

RELEASE = Release(
    SOURCE_ID, 2024, "https://www.data.gouv.fr/api/1/datasets/r/8c67a68a-bb1a-4b7e-b221-62ccfb8bc4f9",
    "conso2009_2024_resultats_com.csv", mirror_path="cerema/conso2009_2024_resultats_com.csv", sep=";",
)
"""Latest file: flows 2009 to 2023 (1 January 2009 – 1 January 2024)."""

DESTINATIONS: dict[str, str] = {
    "act": "activite", "hab": "habitat", "mix": "mixte", "rou": "routes", "fer": "ferre", "inc": "inconnu",
}
FIRST_YEAR = 2009
_TOTAL = re.compile(r"naf(\d\d)art(\d\d)")


def flow_years(header: list[str]) -> list[int]:
    """Years 20yy whose one-year flow ``naf<yy>art<yy+1>`` is in the header."""
    years = []
    for c in header:
        m = _TOTAL.fullmatch(c)
        if m and int(m.group(2)) == int(m.group(1)) + 1:
            years.append(2000 + int(m.group(1)))
    return sorted(years)


def columns_for(year: int) -> dict[str, tuple[str, str]]:
    """Official columns of one flow year -> (variable, unit)."""
    a, b = f"{year % 100:02d}", f"{(year + 1) % 100:02d}"
    cols = {f"naf{a}art{b}": ("conso_naf_ha", "ha")}
    cols.update({f"art{a}{code}{b}": (f"conso_naf_{label}_ha", "ha") for code, label in DESTINATIONS.items()})
    return cols


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, list[int]]:
    """Parse and validate the commune file; return (wide frame in m², flow years)."""
    table = base.TableFile(path, name=rel.filename, member=rel.member)
    header, _ = base.peek_header(table, sep=rel.sep, encodings=rel.encodings)
    label = table.name
    years = flow_years(header)
    if not years or years[0] != FIRST_YEAR or years != list(range(FIRST_YEAR, years[-1] + 1)):
        raise SchemaError(
            f"{label}: expected yearly flow columns naf09art10, naf10art11 … without gaps; found years {years}. "
            "The Cerema file layout changed."
        )
    cols: dict[str, tuple[str, str]] = {}
    for y in years:
        cols.update(columns_for(y))
    required = ["idcom", *cols]
    df = base.read_csv(path, rel, required=required, usecols=required)
    df["commune_code"] = base.check_codes(df["idcom"], name=label, column="idcom")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{label}: duplicated idcom, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, cols, name=label)
    base.check_ranges(df, {c: (-100.0, 5e8) for c in cols}, name=label)
    _check_totals(df, years, name=label)
    return df[["commune_code", *cols]], years


def _check_totals(df: pd.DataFrame, years: list[int], *, name: str) -> None:
    """The NAF total of each year equals the sum of its destinations (to 1 m² per column)."""
    bad_years = []
    for y in years:
        cols = list(columns_for(y))
        total, parts = cols[0], cols[1:]
        gap = (df[total] - df[parts].sum(axis=1, min_count=1)).abs()
        if (gap > len(parts) + 1).any():
            bad_years.append(y)
    if bad_years:
        raise SchemaError(
            f"{name}: naf<yy>art<yy+1> differs from the sum of its destinations for years {bad_years}: "
            "the columns are shifted or their meaning changed."
        )


def tidy(wide: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Tidy long frame in hectares, one row per commune, flow year and destination."""
    frames = []
    for y in years:
        cols = columns_for(y)
        part = base.melt(wide, key="commune_code", year=y, variables=cols)
        frames.append(part)
    long = pd.concat(frames, ignore_index=True)
    long["value"] = long["value"] / 10_000.0
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or data.gouv.fr), parse, validate and tidy the Cerema NAF consumption file."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    wide, years = parse(artifact.path)
    return tidy(wide, years)
