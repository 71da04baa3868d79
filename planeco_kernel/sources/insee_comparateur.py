"""INSEE — « Comparateur de territoires »: census key figures, état civil, establishments, Filosofi.

Source: INSEE, « Comparateur de territoires » (https://www.insee.fr/fr/statistiques/2521169),
archive ``base_cc_comparateur_csv.zip`` with ``base_cc_comparateur.CSV`` (``;``-separated, CRLF)
and its dictionary ``meta_base_cc_comparateur.CSV``. The mirrored edition (January 2022) holds
census RP 2018 and 2013 on the **COG 2021** geography, Filosofi 2019, births and deaths
2013–2018 and 2020, establishments at the end of 2018. INSEE replaces the file in place with
each edition: the years are read from the column names (``P18_POP`` → census 2018, ``P13_POP``
→ 2013, ``MED19`` → income year 2019, ``NAIS1318`` → births from 1 January 2013 to 1 January
2018, ``NAISD20`` → births in 2020, ``ETTOT18`` → establishments at the end of 2018), so a newer
edition is read without a code change.

Layout facts checked on the mirrored file: 35,010 rows = 34,965 communes + the 45 arrondissements
municipaux of Paris, Lyon and Marseille (dropped by the components step when the commune's own
row is present, never summed twice); census counts are weighted (decimals); statistical secret
and the 17 communes of Mayotte (no census in 2018) are empty cells. Published totals (France
without Mayotte): P18_POP over communes = 66,732,538; P18_LOG 36,220,594; P18_LOGVAC 2,954,500
(8.16 %); checked at build time (:func:`checks`).

Tidy output (commune_code, year, variable, value, unit), one year per vintage found:
census (year = census year): ``population``, ``menages``, ``logements``,
``residences_principales``, ``residences_secondaires``, ``logements_vacants``,
``residences_principales_proprietaires``, ``emplois_au_lieu_de_travail``,
``emplois_salaries_au_lieu_de_travail``, ``population_15_64_ans``, ``actifs_15_64_ans``,
``chomeurs_15_64_ans`` (earlier census: ``population``, ``emplois_au_lieu_de_travail``);
état civil: ``naissances_5_ans``/``deces_5_ans`` at the end year of the period (2018 for
2013–2017), ``naissances``/``deces`` for one year (2020); establishments (year of the stock):
``etablissements_actifs`` and by sector; Filosofi (income year): ``nb_menages_fiscaux``,
``part_menages_imposes_pct``, ``niveau_vie_median_eur``, ``taux_pauvrete_pct``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "insee_comparateur"

URL = "https://www.insee.fr/fr/statistiques/fichier/2521169/base_cc_comparateur_csv.zip"

RELEASE = Release(
    SOURCE_ID, 2018, URL, "base_cc_comparateur_csv.zip",
    mirror_path="insee/base_cc_comparateur_csv_RP2018_COG2021.zip", member="base_cc_comparateur.CSV", sep=";",
    extra={"geography": 2021},
)
"""The mirrored edition (January 2022: RP 2018 / COG 2021). Online, INSEE serves its latest edition."""

CENSUS: dict[str, tuple[str, str]] = {
    "POP": ("population", "personnes"),
    "MEN": ("menages", "ménages"),
    "LOG": ("logements", "logements"),
    "RP": ("residences_principales", "logements"),
    "RSECOCC": ("residences_secondaires", "logements"),
    "LOGVAC": ("logements_vacants", "logements"),
    "RP_PROP": ("residences_principales_proprietaires", "logements"),
    "EMPLT": ("emplois_au_lieu_de_travail", "emplois"),
    "EMPLT_SAL": ("emplois_salaries_au_lieu_de_travail", "emplois"),
    "POP1564": ("population_15_64_ans", "personnes"),
    "CHOM1564": ("chomeurs_15_64_ans", "personnes"),
    "ACT1564": ("actifs_15_64_ans", "personnes"),
}
"""Census variables ``P<yy>_<name>`` → (tidy variable, unit)."""

ESTABLISHMENTS: dict[str, tuple[str, str]] = {
    "ETTOT": ("etablissements_actifs", "établissements"),
    "ETAZ": ("etablissements_agriculture", "établissements"),
    "ETBE": ("etablissements_industrie", "établissements"),
    "ETFZ": ("etablissements_construction", "établissements"),
    "ETGU": ("etablissements_commerce_services", "établissements"),
    "ETOQ": ("etablissements_administration", "établissements"),
    "ETTEFP10": ("etablissements_10_salaries_plus", "établissements"),
}

FILOSOFI: dict[str, tuple[str, str]] = {
    "NBMENFISC": ("nb_menages_fiscaux", "ménages"),
    "PIMP": ("part_menages_imposes_pct", "%"),
    "MED": ("niveau_vie_median_eur", "EUR"),
    "TP60": ("taux_pauvrete_pct", "%"),
}

INTENSIVE = frozenset({"part_menages_imposes_pct", "niveau_vie_median_eur", "taux_pauvrete_pct"})

RANGES: dict[str, tuple[float, float]] = {"part_menages_imposes_pct": (0, 100), "taux_pauvrete_pct": (0, 100),
                                          "niveau_vie_median_eur": (1_000, 100_000)}


def layout(header: list[str]) -> dict[str, tuple[str, str, int]]:
    """``{column: (variable, unit, year)}`` for every known column of an edition's header."""
    out: dict[str, tuple[str, str, int]] = {}
    for col in header:
        if m := re.fullmatch(r"P(\d\d)_([A-Z_0-9]+)", col):
            if m.group(2) in CENSUS:
                var, unit = CENSUS[m.group(2)]
                out[col] = (var, unit, 2000 + int(m.group(1)))
        elif m := re.fullmatch(r"(NAIS|DECE)(\d\d)(\d\d)", col):
            var = "naissances_5_ans" if m.group(1) == "NAIS" else "deces_5_ans"
            out[col] = (var, "personnes", 2000 + int(m.group(3)))
        elif m := re.fullmatch(r"(NAISD|DECESD)(\d\d)", col):
            out[col] = ("naissances" if m.group(1) == "NAISD" else "deces", "personnes", 2000 + int(m.group(2)))
        elif m := re.fullmatch(r"(ETTOT|ETAZ|ETBE|ETFZ|ETGU|ETOQ|ETTEFP10)(\d\d)", col):
            var, unit = ESTABLISHMENTS[m.group(1)]
            out[col] = (var, unit, 2000 + int(m.group(2)))
        elif m := re.fullmatch(r"(NBMENFISC|PIMP|MED|TP60)(\d\d)", col):
            var, unit = FILOSOFI[m.group(1)]
            out[col] = (var, unit, 2000 + int(m.group(2)))
    return out


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, dict[str, tuple[str, str, int]]]:
    """Parse and validate the archive's data file; return (wide frame, column layout).

    Raises
    ------
    SchemaError
        No census population column, missing key columns, bad codes, non-numeric values, values
        out of range, or the housing stock not adding up (main + secondary + vacant = dwellings).
    """
    table = base.TableFile(path, name=rel.filename, member=rel.member)
    header, _ = base.peek_header(table, sep=rel.sep, encodings=rel.encodings)
    cols = layout(header)
    census_years = sorted({y for c, (v, _u, y) in cols.items() if v == "population"})
    if not census_years:
        raise SchemaError(f"{table.name}: no census population column P<yy>_POP (found {header[:12]}); "
                          "the INSEE layout changed: update planeco_kernel.sources.insee_comparateur.")
    latest = census_years[-1]
    yy = f"{latest % 100:02d}"
    needed = [f"P{yy}_{k}" for k in ("POP", "MEN", "LOG", "RP", "RSECOCC", "LOGVAC")]
    df = base.read_csv(path, rel, required=["CODGEO", *needed], usecols=["CODGEO", *cols])
    label = df.attrs.get("source_name", rel.filename)
    df["commune_code"] = base.check_codes(df["CODGEO"], name=label, column="CODGEO")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{label}: duplicated CODGEO, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, cols, name=label)
    base.check_ranges(df, {c: RANGES.get(v, (0.0, 5e7)) for c, (v, _u, _y) in cols.items()}, name=label)
    parts = df[[f"P{yy}_RP", f"P{yy}_RSECOCC", f"P{yy}_LOGVAC"]].sum(axis=1, min_count=3)
    gap = (parts - df[f"P{yy}_LOG"]).abs()
    if (gap > 0.01 * df[f"P{yy}_LOG"].clip(lower=100)).any():
        bad = df.loc[gap > 0.01 * df[f"P{yy}_LOG"].clip(lower=100), "commune_code"].head(3).tolist()
        raise SchemaError(f"{label}: main + secondary + vacant dwellings differ from P{yy}_LOG (e.g. {bad}): "
                          "the columns are shifted or their meaning changed.")
    return df[["commune_code", *cols]], cols


CIVIL = frozenset({"naissances_5_ans", "deces_5_ans", "naissances", "deces"})


def tidy(wide: pd.DataFrame, cols: dict[str, tuple[str, str, int]]) -> pd.DataFrame:
    """The tidy long frame: one row per commune (or arrondissement), year and variable.

    Communes without a census in the file (Mayotte: every census, establishment and Filosofi
    cell empty, while its births and deaths are given) get no rows for those variables: they are
    outside the scope of the census series, not missing values of it.
    """
    latest = max(y for v, _u, y in cols.values() if v == "population")
    pop_col = next(c for c, (v, _u, y) in cols.items() if v == "population" and y == latest)
    no_census = wide[pop_col].isna().to_numpy()
    frames = []
    for year in sorted({y for _v, _u, y in cols.values()}):
        variables = {c: (v, u) for c, (v, u, y) in cols.items() if y == year}
        civil = {c: vu for c, vu in variables.items() if vu[0] in CIVIL}
        other = {c: vu for c, vu in variables.items() if vu[0] not in CIVIL}
        if civil:
            frames.append(base.melt(wide, key="commune_code", year=year, variables=civil))
        if other:
            frames.append(base.melt(wide.loc[~no_census], key="commune_code", year=year, variables=other))
    return base.validate_tidy(pd.concat(frames, ignore_index=True), name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Fetch (mirror, cache or insee.fr), parse, validate and tidy the comparateur de territoires."""
    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    wide, cols = parse(artifact.path)
    return tidy(wide, cols)
