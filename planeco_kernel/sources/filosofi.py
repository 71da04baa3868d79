"""INSEE Filosofi — « Revenus, pauvreté et niveau de vie » by commune and EPCI.

Two publication layouts are read:

*Filosofi 1, base comparateur (vintages 2015, 2016)* — one row per territory, wide, official
column names with a two-digit year suffix: ``CODGEO, LIBGEO, NBMENFISC16, NBPERSMENFISC16,
MED16, PIMP16, TP6016, TP60AGE116 … TP60AGE616, TP60TOL116, TP60TOL216, PACT16, PTSA16, PCHO16,
PBEN16, PPEN16, PPAT16, PPSOC16, PPFAM16, PPMINI16, PPLOGT16, PIMPOT16, D116, D916, RD16``.
Values withheld by statistical secret are empty. INSEE publishes these vintages only as XLS
(``base-cc-filosofi-2016.xls``, sheet ``COM``/``EPCI``, header on row 6); planeco reads the CSV
copies in the offline mirror (``insee/filosofi_com_2015.csv``, ``insee/filosofi_com_2016.csv``,
``insee/filosofi_epci_2016.csv``: comma-separated, UTF-8, same column names), which come from the
public InseeFrLab/DoReMIFaSol package history (``data/filosofi_com_2016.rda`` …). Reading the
official XLS would need ``xlrd``, which planeco does not depend on.

**These vintages are old** (incomes of 2015 and 2016): every load of them emits a
:class:`~planeco_kernel.sources.base.VintageWarning` saying so and naming the latest vintage.

*Filosofi 2 (latest: incomes 2023, published 2025)* — ``FILOSOFI_CC_csv.zip`` at
https://www.insee.fr/fr/statistiques/fichier/8984752/FILOSOFI_CC_csv.zip (page
https://www.insee.fr/fr/statistiques/8984752), member ``DS_FILOSOFI_CC_<year>_data.csv``,
semicolon-separated, long format ``GEO;GEO_OBJECT;FILOSOFI_MEASURE;UNIT_MEASURE;UNIT_MULT;
CONF_STATUS;OBS_STATUS;TIME_PERIOD;OBS_VALUE`` (``GEO_OBJECT`` = ``COM``, ``EPCI``, ``DEP`` …;
measures ``MED_SL`` median standard of living, ``PR_MD60`` poverty rate at 60 % of the median,
``D1_SL``, ``D9_SL``, ``IR_D9_D1_SL``, ``GI_SL``, ``S_SOC_BEN_DI``). Not comparable with
Filosofi 1 (INSEE changed the method; there is no 2022 vintage).

References
----------
- Official URL and member of the 2023 archive, the long layout and measure codes: confirmed only
  from public code that reads it (e.g. ``DS_FILOSOFI_CC_2023_data.csv`` in a harmonisation README
  listing the INSEE URLs of 2013–2023; several readers of ``GEO_OBJECT``/``FILOSOFI_MEASURE``/
  ``OBS_VALUE``), not from the live INSEE page, which this machine cannot reach. The member is
  matched by the pattern ``DS_FILOSOFI_CC*_data.csv`` so that a renamed year does not break it.
- 2015 archive URL https://www.insee.fr/fr/statistiques/fichier/3560121/filo-revenu-pauvrete-menage-2015.zip
  (used by InseeFrLab's Python course). The 2016 archive URL could not be confirmed; the 2016
  release points at the INSEE Filosofi 2016 page instead.
- Column meanings: INSEE « Revenus, pauvreté et niveau de vie en 2016 », documentation of the base
  comparateur (variables NBMENFISC, MED, TP60 …).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import pandas as pd

from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

log = logging.getLogger(__name__)

SOURCE_ID = "filosofi"

_OLD = (
    "millésime ancien (revenus {y}) lu dans le miroir hors ligne ; le plus récent est Filosofi 2023 "
    "(https://www.insee.fr/fr/statistiques/8984752), téléchargé automatiquement quand le réseau est disponible."
)

LATEST_URL = "https://www.insee.fr/fr/statistiques/fichier/8984752/FILOSOFI_CC_csv.zip"

RELEASES: dict[tuple[int, str], Release] = {
    (2015, "commune"): Release(
        SOURCE_ID, 2015, "https://www.insee.fr/fr/statistiques/fichier/3560121/filo-revenu-pauvrete-menage-2015.zip",
        "filosofi_com_2015.csv", mirror_path="insee/filosofi_com_2015.csv", sep=",",
        note=_OLD.format(y=2015), extra={"layout": "wide", "official_format": "xls", "mirror_only": True},
    ),
    (2016, "commune"): Release(
        SOURCE_ID, 2016, "https://www.insee.fr/fr/statistiques/4190004",
        "filosofi_com_2016.csv", mirror_path="insee/filosofi_com_2016.csv", sep=",",
        note=_OLD.format(y=2016), extra={"layout": "wide", "official_format": "xls", "url_is_page": True, "mirror_only": True},
    ),
    (2016, "epci"): Release(
        SOURCE_ID, 2016, "https://www.insee.fr/fr/statistiques/4190004",
        "filosofi_epci_2016.csv", mirror_path="insee/filosofi_epci_2016.csv", sep=",",
        note=_OLD.format(y=2016), extra={"layout": "wide", "official_format": "xls", "url_is_page": True, "mirror_only": True},
    ),
    (2023, "commune"): Release(
        SOURCE_ID, 2023, LATEST_URL, "FILOSOFI_CC_csv.zip", mirror_path="insee/FILOSOFI_CC_csv.zip",
        member="DS_FILOSOFI_CC*_data.csv", sep=";", extra={"layout": "long", "geo_object": "COM"},
    ),
    (2023, "epci"): Release(
        SOURCE_ID, 2023, LATEST_URL, "FILOSOFI_CC_csv.zip", mirror_path="insee/FILOSOFI_CC_csv.zip",
        member="DS_FILOSOFI_CC*_data.csv", sep=";", extra={"layout": "long", "geo_object": "EPCI"},
    ),
}
LATEST_VINTAGE = 2023

# Filosofi 1 base comparateur: column stem -> (variable, unit). The two-digit year is appended.
WIDE_VARIABLES: dict[str, tuple[str, str]] = {
    "NBMENFISC": ("nb_menages_fiscaux", "ménages"),
    "NBPERSMENFISC": ("nb_personnes_menages_fiscaux", "personnes"),
    "MED": ("niveau_vie_median_eur", "EUR"),
    "PIMP": ("part_menages_imposes_pct", "%"),
    "TP60": ("taux_pauvrete_pct", "%"),
    "TP60AGE1": ("taux_pauvrete_moins_30_ans_pct", "%"),
    "TP60AGE2": ("taux_pauvrete_30_39_ans_pct", "%"),
    "TP60AGE3": ("taux_pauvrete_40_49_ans_pct", "%"),
    "TP60AGE4": ("taux_pauvrete_50_59_ans_pct", "%"),
    "TP60AGE5": ("taux_pauvrete_60_74_ans_pct", "%"),
    "TP60AGE6": ("taux_pauvrete_75_ans_plus_pct", "%"),
    "TP60TOL1": ("taux_pauvrete_proprietaires_pct", "%"),
    "TP60TOL2": ("taux_pauvrete_locataires_pct", "%"),
    "PACT": ("part_revenus_activite_pct", "%"),
    "PTSA": ("part_salaires_pct", "%"),
    "PCHO": ("part_indemnites_chomage_pct", "%"),
    "PBEN": ("part_revenus_non_salaries_pct", "%"),
    "PPEN": ("part_pensions_retraites_pct", "%"),
    "PPAT": ("part_revenus_patrimoine_pct", "%"),
    "PPSOC": ("part_prestations_sociales_pct", "%"),
    "PPFAM": ("part_prestations_familiales_pct", "%"),
    "PPMINI": ("part_minima_sociaux_pct", "%"),
    "PPLOGT": ("part_prestations_logement_pct", "%"),
    "PIMPOT": ("part_impots_pct", "%"),
    "D1": ("niveau_vie_d1_eur", "EUR"),
    "D9": ("niveau_vie_d9_eur", "EUR"),
    "RD": ("rapport_interdecile_d9_d1", "ratio"),
}

# Plausible ranges (min, max) by column stem; checked with pandera on every load.
WIDE_RANGES: dict[str, tuple[float, float]] = {
    "NBMENFISC": (0, 5e6), "NBPERSMENFISC": (0, 1.2e7), "MED": (3_000, 150_000),
    "PIMP": (0, 100), "TP60": (0, 100), **{f"TP60AGE{i}": (0, 100) for i in range(1, 7)},
    "TP60TOL1": (0, 100), "TP60TOL2": (0, 100),
    "PACT": (0, 150), "PTSA": (0, 150), "PCHO": (0, 100), "PBEN": (0, 100), "PPEN": (0, 100),
    "PPAT": (0, 150), "PPSOC": (0, 100), "PPFAM": (0, 100), "PPMINI": (0, 100), "PPLOGT": (0, 100),
    "PIMPOT": (-100, 0), "D1": (0, 100_000), "D9": (0, 1_000_000), "RD": (1, 100),
}

# Filosofi 2 measures -> (variable, unit).
LONG_VARIABLES: dict[str, tuple[str, str]] = {
    "MED_SL": ("niveau_vie_median_eur", "EUR"),
    "PR_MD60": ("taux_pauvrete_pct", "%"),
    "D1_SL": ("niveau_vie_d1_eur", "EUR"),
    "D9_SL": ("niveau_vie_d9_eur", "EUR"),
    "IR_D9_D1_SL": ("rapport_interdecile_d9_d1", "ratio"),
    "GI_SL": ("indice_gini", "ratio"),
    "S_SOC_BEN_DI": ("part_prestations_sociales_pct", "%"),
}
LONG_REQUIRED_MEASURES = ("MED_SL", "PR_MD60")
LONG_COLUMNS = ("GEO", "GEO_OBJECT", "FILOSOFI_MEASURE", "TIME_PERIOD", "OBS_VALUE")
LONG_RANGES: dict[str, tuple[float, float]] = {
    "MED_SL": (3_000, 150_000), "PR_MD60": (0, 100), "D1_SL": (0, 100_000), "D9_SL": (0, 1_000_000),
    "IR_D9_D1_SL": (1, 100), "GI_SL": (0, 1), "S_SOC_BEN_DI": (0, 100),
}

Level = Literal["commune", "epci"]


def release(vintage: int | None = None, level: Level = "commune") -> Release:
    """The release for a vintage and level (default: the latest)."""
    key = (vintage or LATEST_VINTAGE, level)
    if key not in RELEASES:
        have = sorted({v for v, lv in RELEASES if lv == level})
        raise ValueError(f"Filosofi {level} {vintage}: unknown vintage; available: {have}.")
    return RELEASES[key]


def vintage_note(vintage: int | None = None, level: Level = "commune") -> str:
    """What a user must be told about a vintage (empty for the latest), in French.

    Examples
    --------
    >>> vintage_note(2016)[:40]
    'millésime ancien (revenus 2016) lu dans '
    >>> vintage_note()
    ''
    """
    return release(vintage, level).note


def wide_columns(vintage: int) -> list[str]:
    """Official column names of the Filosofi 1 base comparateur for a vintage, in file order."""
    yy = f"{vintage % 100:02d}"
    return ["CODGEO", "LIBGEO"] + [f"{stem}{yy}" for stem in WIDE_VARIABLES]


def parse(path: Path, rel: Release) -> pd.DataFrame:
    """Parse and validate one Filosofi file; return a wide frame (code column + float variables).

    For the long (Filosofi 2) layout the frame is pivoted to one column per measure.

    Raises
    ------
    SchemaError
        Missing or renamed columns, bad codes, non-numeric or out-of-range values.
    """
    if rel.extra.get("layout") == "long":
        return _parse_long(path, rel)
    return _parse_wide(path, rel)


def _key_for(rel: Release, level: str) -> tuple[str, str]:
    if level == "epci":
        return "epci_siren", base.EPCI_SIREN_PATTERN
    return "commune_code", base.COMMUNE_CODE_PATTERN


def _level_of(rel: Release) -> str:
    for (_v, lv), r in RELEASES.items():
        if r is rel:
            return lv
    return "epci" if "epci" in rel.filename.lower() or rel.extra.get("geo_object") == "EPCI" else "commune"


def _parse_wide(path: Path, rel: Release) -> pd.DataFrame:
    name = rel.filename
    with open(path, "rb") as f:
        if f.read(2) == b"PK":
            raise SchemaError(
                f"{name}: l'Insee ne publie le millésime {rel.vintage} qu'en XLS dans une archive ZIP, que planeco "
                f"ne lit pas. Utilisez la copie CSV du miroir ({rel.mirror_path}) ou le millésime {LATEST_VINTAGE}."
            )
    expected = wide_columns(rel.vintage)
    df = base.read_csv(path, rel, required=expected)
    level = _level_of(rel)
    key, pattern = _key_for(rel, level)
    df[key] = base.check_codes(df["CODGEO"], name=name, column="CODGEO", pattern=pattern)
    num_cols = expected[2:]
    df = base.to_numeric(df, num_cols, name=name)
    yy = f"{rel.vintage % 100:02d}"
    base.check_ranges(df, {f"{stem}{yy}": rng for stem, rng in WIDE_RANGES.items()}, name=name)
    if df[key].duplicated().any():
        dup = df.loc[df[key].duplicated(), key].head(5).tolist()
        raise SchemaError(f"{name}: duplicated codes in CODGEO, e.g. {dup}")
    return df[[key, "LIBGEO", *num_cols]].rename(columns={"LIBGEO": "name"})


def _parse_long(path: Path, rel: Release) -> pd.DataFrame:
    df = base.read_csv(path, rel, required=LONG_COLUMNS, usecols=LONG_COLUMNS)
    name = f"{rel.filename}"
    geo_object = rel.extra.get("geo_object", "COM")
    level = "epci" if geo_object == "EPCI" else "commune"
    key, pattern = _key_for(rel, level)
    sub = df[df["GEO_OBJECT"] == geo_object]
    if sub.empty:
        raise SchemaError(f"{name}: no rows with GEO_OBJECT == {geo_object!r} (found {sorted(df['GEO_OBJECT'].dropna().unique())[:10]})")
    measures = set(sub["FILOSOFI_MEASURE"].dropna().unique())
    missing = [m for m in LONG_REQUIRED_MEASURES if m not in measures]
    if missing:
        raise SchemaError(f"{name}: missing measures {missing} in FILOSOFI_MEASURE (expected {list(LONG_REQUIRED_MEASURES)}; found {sorted(measures)[:12]})")
    sub = sub[sub["FILOSOFI_MEASURE"].isin(LONG_VARIABLES)].copy()
    years = sorted(sub["TIME_PERIOD"].dropna().unique())
    if str(rel.vintage) not in years:
        raise SchemaError(f"{name}: no TIME_PERIOD {rel.vintage} (found {years}); pass the vintage the file holds.")
    sub = sub[sub["TIME_PERIOD"] == str(rel.vintage)]
    sub[key] = base.check_codes(sub["GEO"], name=name, column="GEO", pattern=pattern)
    sub = base.to_numeric(sub, ["OBS_VALUE"], name=name, decimal_comma=True)
    if sub.duplicated([key, "FILOSOFI_MEASURE"]).any():
        raise SchemaError(f"{name}: several OBS_VALUE for one GEO and FILOSOFI_MEASURE (layout changed: new dimension?)")
    wide = sub.pivot(index=key, columns="FILOSOFI_MEASURE", values="OBS_VALUE").reset_index()
    wide.columns.name = None
    base.check_ranges(wide, {m: r for m, r in LONG_RANGES.items() if m in wide.columns}, name=name)
    return wide


def tidy(wide: pd.DataFrame, rel: Release) -> pd.DataFrame:
    """The tidy long frame (see :mod:`planeco_kernel.sources.base`) of a parsed Filosofi file."""
    key = "epci_siren" if "epci_siren" in wide.columns else "commune_code"
    if rel.extra.get("layout") == "long":
        variables = LONG_VARIABLES
    else:
        yy = f"{rel.vintage % 100:02d}"
        variables = {f"{stem}{yy}": spec for stem, spec in WIDE_VARIABLES.items()}
    long = base.melt(wide, key=key, year=rel.vintage, variables=variables, key_name=key)
    return base.validate_tidy(long, name=rel.filename, key=key)


def load(
    vintage: int | None = None,
    *,
    level: Level = "commune",
    mirror: str | Path | None = None,
    url: str | None = None,
    cache=None,
) -> pd.DataFrame:
    """Fetch, parse, validate and tidy Filosofi for one vintage and level.

    With ``vintage=None`` the latest vintage is fetched from INSEE; when it cannot be reached,
    the newest vintage of the offline mirror is used instead, with a
    :class:`~planeco_kernel.sources.base.VintageWarning` that says so.

    Returns
    -------
    pandas.DataFrame
        Tidy long frame keyed by ``commune_code`` (or ``epci_siren``) and ``year``.
    """
    if vintage is None:
        try:
            return load(LATEST_VINTAGE, level=level, mirror=mirror, url=url, cache=cache)
        except SourceUnavailableError as exc:
            fallback = max(v for v, lv in RELEASES if lv == level and RELEASES[(v, lv)].mirror_path and v != LATEST_VINTAGE)
            log.warning("Filosofi %s unavailable (%s); falling back to mirrored vintage %s", LATEST_VINTAGE, exc, fallback)
            return load(fallback, level=level, mirror=mirror, url=None, cache=cache)
    rel = release(vintage, level)
    artifact = base.obtain(rel, mirror=mirror, url=url, cache=cache)
    df = tidy(parse(artifact.path, rel), rel)
    base.warn_vintage(rel)
    return df
