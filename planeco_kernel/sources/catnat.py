"""Géorisques GASPAR — recognised natural disasters (arrêtés CatNat) per commune since 1982.

Source: the GASPAR base of the ministry of ecological transition, published by Géorisques
(https://www.georisques.gouv.fr/, « arrêtés de catastrophe naturelle », open data on
data.gouv.fr), counted per commune by bpineau/gazetteer and mirrored as
``georisques/catnat_communes_1982_2025.json.gz`` (see :mod:`planeco_kernel.sources.gazetteer`).

Layout (gzip JSON)::

    {"ref_year": 2025, "window_years": 10,
     "communes": [{"insee": "01053", "total": 13, "recent": 4, "last_year": 2022,
                   "inond": 6, "sech": 4, "mvt": 1, "temp": 1}, ...]}

``total``: decrees since 1982; ``recent``: decrees of the last ``window_years`` years up to
``ref_year`` (2016–2025); ``last_year``: year of the latest decree; per category ``inond``
(floods, mudflows), ``sech`` (drought / clay shrinkage and swelling), ``mvt`` (ground movements),
``temp`` (storms, cyclonic winds); an absent category is 0. Other perils (avalanches,
earthquakes, marine submersion …) are in ``total`` only. A commune absent from the file has no
recognised disaster since 1982 (0). These are **recognised disasters**, not an exposure to risk:
a commune without decree is not a commune without risk.

Facts checked on the mirrored file (this machine): 34,704 communes, 260,799 decrees (the mirror
README's totals); inond + sech + mvt + temp ≤ total everywhere (equal for 27,104 communes);
recent ≤ total; 1982 ≤ last_year ≤ 2025; Paris, Lyon and Marseille given as communes only.

Variables (tidy, year = ``ref_year``): ``catnat_arretes`` (since 1982), ``catnat_arretes_10_ans``,
``catnat_inondations``, ``catnat_secheresse``, ``catnat_mouvements_terrain``, ``catnat_tempetes``
(since 1982, ``arrêtés``) and ``catnat_derniere_annee`` (a year, not additive).

**Official file (online).** The publisher's own file is ``catnat_gaspar.csv`` of the GASPAR base
(« Base nationale de Gestion ASsistée des Procédures Administratives relatives aux Risques »,
data.gouv.fr dataset of the ministry / Géorisques; Géorisques also ships it inside
``gaspar.zip``): ``;``-separated, one row per decree and commune, columns ``cod_nat_catnat``
(national code of the decree), ``cod_commune`` (INSEE code, text with its leading zeros),
``lib_commune``, ``num_risque_jo``, ``lib_risque_jo`` (the peril as published in the Journal
officiel), ``dat_deb``, ``dat_fin`` (the event), ``dat_pub_arrete``, ``dat_pub_jo``, ``dat_maj``;
dates ``YYYY-MM-DD`` optionally followed by `` HH:MM:SS``. :func:`parse_official` reads it
strictly and computes the mirror's counts from the rows, with the rules that made the mirror
aggregate (bpineau/gazetteer ``sources/catnat/transform.go``): the year of a decree is the year
of ``dat_deb``; ``ref_year`` is the latest such year in the file and the recent window its 10
last years; the category of ``lib_risque_jo`` is floods when it starts with « Inondation »,
drought when it starts with « Sécheresse », ground movements when it contains « Mouvement de
Terrain », « Glissement », « Eboulement » or « Effondrement », storms when it starts with
« Tempête » or contains « Vents Cycloniques » (compared case-insensitively), other perils in
the total only. Unlike the aggregate, which counts rows, a decree is counted **once per
commune** (rows repeating a ``cod_nat_catnat`` for a commune — a corrected decree — count
once); if one decree names two categories for a commune it counts once in the total and once in
each category. A row without a decree code, a commune code, a peril or an event start date, or
with a date that is not a date or falls outside 1982 – next year, is an error naming the file
and the column (never a silent 0). The file is updated in place: its release declares no total
(the mirror's 34,704 communes and 260,799 rows belong to the 2025 snapshot); the checks that the
mirror path applies to the counts (categories and recent decrees ≤ total, years in range) are
applied, and a release that declares ``totals`` (``communes``, ``arretes``) is checked against
them. This layout is taken from the public code of two projects that read the file
(bpineau/gazetteer, and a test of the solveille project with the dated ``HH:MM:SS`` form) and
from the brief of issue #17, **not verified here against a downloaded file** (this machine is
offline); it is tested on invented files in that layout. Online, the resource URL is found
through the data.gouv.fr API (``/api/1/datasets/<slug>/``: the CSV resource named ``catnat``,
else a ZIP naming GASPAR, whose ``catnat_gaspar.csv`` member is read); a copy placed in the
mirror as ``georisques/catnat_gaspar.csv`` (or the ZIP under that name) is read first.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "catnat"
FIRST_YEAR = 1982

RELEASE = Release(
    SOURCE_ID, 2025, "https://www.georisques.gouv.fr/donnees/bases-de-donnees/base-gaspar",
    "catnat_communes_1982_2025.json.gz", mirror_path="georisques/catnat_communes_1982_2025.json.gz",
    extra={"mirror_only": True, "totals": {"communes": 34704, "arretes": 260799}},
)

CATEGORIES = {"inond": "catnat_inondations", "sech": "catnat_secheresse", "mvt": "catnat_mouvements_terrain",
              "temp": "catnat_tempetes"}
COUNTS = {"total": "catnat_arretes", "recent": "catnat_arretes_10_ans", **CATEGORIES}
GEORISQUES_COMMUNE_URL = "https://www.georisques.gouv.fr/mes-risques/connaitre-les-risques-pres-de-chez-moi/rapport2?form-commune=true&codeInsee={code}"
"""Géorisques' risk report of one commune (« connaître les risques près de chez moi »; the URL form
used by MTES-MCT Docurba's front end)."""


DATASET_SLUG = "base-nationale-de-gestion-assistee-des-procedures-administratives-relatives-aux-risques-gaspar"
DATASET_API = f"https://www.data.gouv.fr/api/1/datasets/{DATASET_SLUG}/"
WINDOW_YEARS = 10
OFFICIAL_WHERE = DATASET_API
"""Where the official file is found when online (shown as the bundle's origin)."""
OFFICIAL_RELEASE = Release(
    SOURCE_ID, 0, DATASET_API, "catnat_gaspar.csv", mirror_path="georisques/catnat_gaspar.csv",
    member="catnat_gaspar.csv", sep=";", encodings=("utf-8-sig", "cp1252"),
    note="Base GASPAR, arrêtés de catastrophe naturelle (un par arrêté et commune), mise à jour en continu.",
)
OFFICIAL_COLUMNS = ("cod_nat_catnat", "cod_commune", "lib_risque_jo", "dat_deb")
_MVT_WORDS = ("mouvement de terrain", "glissement", "eboulement", "effondrement")


def category(label: str) -> str:
    """The mirror's category key of a ``lib_risque_jo`` label (``""``: in the total only)."""
    lib = label.strip().casefold()
    if lib.startswith("inondation"):
        return "inond"
    if lib.startswith("sécheresse"):
        return "sech"
    if any(w in lib for w in _MVT_WORDS):
        return "mvt"
    if lib.startswith("tempête") or "vents cycloniques" in lib:
        return "temp"
    return ""


def _years(raw: pd.Series, *, name: str, column: str, last: int) -> pd.Series:
    """Years of ISO dates (``YYYY-MM-DD`` with an optional time); unreadable or out of range: error."""
    text = raw.str.strip()
    dates = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = dates.isna() | ~text.str.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?").fillna(False)
    if bad.any():
        raise SchemaError(f"{name}: {int(bad.sum())} unreadable dates in column {column!r}, e.g. "
                          f"{raw[bad].head(3).tolist()} (expected YYYY-MM-DD, optionally with HH:MM:SS).")
    years = dates.dt.year
    out = (years < FIRST_YEAR) | (years > last)
    if out.any():
        raise SchemaError(f"{name}: {int(out.sum())} dates in column {column!r} outside {FIRST_YEAR}–{last}, e.g. "
                          f"{raw[out].head(3).tolist()}: not the dates of CatNat decrees.")
    return years.astype(int)


def parse_official(path: Path, rel: Release = OFFICIAL_RELEASE, *, last_year: int | None = None) -> tuple[pd.DataFrame, int, int]:
    """Count the official GASPAR rows per commune; return (one row per commune, ref_year, window_years).

    Same frame as :func:`parse`. ``last_year`` bounds the dates (default: next calendar year).

    Raises
    ------
    SchemaError
        A column is missing, a required cell is empty, a code or a date is unreadable, or the counts
        break the mirror's rules; the message names the file and the column.
    PublishedTotalError
        The release declares totals and the file does not reproduce them.
    """
    import datetime as dt

    name = rel.filename
    last = last_year if last_year is not None else dt.date.today().year + 1
    df = base.read_csv(path, rel, required=list(OFFICIAL_COLUMNS), usecols=list(OFFICIAL_COLUMNS))
    for col in OFFICIAL_COLUMNS:
        blank = df[col].isna() | (df[col].str.strip() == "")
        if blank.any():
            raise SchemaError(f"{name}: {int(blank.sum())} rows with an empty {col!r} (e.g. rows "
                              f"{(df.index[blank][:3] + 2).tolist()} of the file): every decree row names its decree, "
                              "commune, peril and start date.")
    df["commune_code"] = base.check_codes(df["cod_commune"], name=name, column="cod_commune")
    df["decree"] = df["cod_nat_catnat"].str.strip()
    df["year"] = _years(df["dat_deb"], name=name, column="dat_deb", last=last)
    df["cat"] = df["lib_risque_jo"].map(category)
    ref_year = int(df["year"].max())
    pairs = df.groupby(["commune_code", "decree"], sort=False).agg(year=("year", "max"))
    per = pairs.groupby("commune_code").agg(total=("year", "size"), last_year=("year", "max"))
    per["recent"] = (pairs["year"] > ref_year - WINDOW_YEARS).groupby("commune_code").sum()
    cats = df.loc[df["cat"] != "", ["commune_code", "decree", "cat"]].drop_duplicates()
    counts = cats.groupby(["commune_code", "cat"]).size().unstack(fill_value=0)
    out = per.join(counts.reindex(columns=list(CATEGORIES), fill_value=0)).fillna(0).reset_index()
    out[[*COUNTS, "last_year"]] = out[[*COUNTS, "last_year"]].astype("float64")
    if (out[list(CATEGORIES)].max(axis=1) > out["total"]).any() or (out["recent"] > out["total"]).any():
        raise SchemaError(f"{name}: a category or the recent decrees exceed the total: the counts changed meaning.")
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(len(out), totals.get("communes"), name=name, what="communes")
    gazetteer.check_published_total(out["total"].sum(), totals.get("arretes"), name=name, what="arrêtés CatNat")
    return out[["commune_code", *COUNTS, "last_year"]], ref_year, WINDOW_YEARS


def resolve_official_url(dataset: dict) -> str:
    """The URL of ``catnat_gaspar.csv`` (or of the GASPAR ZIP) among the dataset's ``resources``.

    Raises
    ------
    SourceUnavailableError
        No resource looks like it.
    """
    from planeco_kernel.errors import SourceUnavailableError
    from planeco_kernel.sources import datagouv

    missing = (f"CatNat : le jeu de données data.gouv.fr « GASPAR » ({DATASET_SLUG}) n'a plus de fichier « catnat_gaspar.csv ». "
               "Téléchargez-le à la main (ou l'archive gaspar.zip de Géorisques) et placez-le dans le miroir "
               f"({OFFICIAL_RELEASE.mirror_path}).")
    try:
        return datagouv.pick_resource(dataset, lambda r: datagouv.fmt(r) == "csv" and "catnat" in datagouv.label(r), missing=missing)
    except SourceUnavailableError:
        return datagouv.pick_resource(dataset, lambda r: datagouv.fmt(r) == "zip" and "gaspar" in datagouv.label(r), missing=missing)


def official_mirror_files(mirror: str | Path | None = None) -> list[Path]:
    """The mirror's copy of the official file (read then without the network), or ``[]``."""
    root = base.resolve_mirror(mirror)
    local = root / OFFICIAL_RELEASE.mirror_path if root is not None and OFFICIAL_RELEASE.mirror_path else None
    return [local] if local is not None and local.is_file() else []


def load_official(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """The official GASPAR decree rows (mirror copy, else data.gouv.fr through its API), counted and tidy like :func:`load`."""
    from planeco_kernel.sources import datagouv

    if url is None and not official_mirror_files(mirror):
        url = resolve_official_url(datagouv.fetch_dataset(DATASET_API, cache=cache))
    df, ref_year, _ = parse_official(base.obtain(OFFICIAL_RELEASE, mirror=mirror, url=url, cache=cache).path, OFFICIAL_RELEASE)
    return tidy(df, ref_year)


def parse(path: Path, rel: Release = RELEASE) -> tuple[pd.DataFrame, int, int]:
    """Parse and check the file; return (one row per commune, ref_year, window_years)."""
    name = rel.filename
    doc = gazetteer.read_json(path, name=name)
    if not isinstance(doc, dict) or not isinstance(doc.get("communes"), list):
        raise SchemaError(f"{name}: expected an object with a 'communes' list.")
    try:
        ref_year, window = int(doc["ref_year"]), int(doc["window_years"])
    except (KeyError, TypeError, ValueError):
        raise SchemaError(f"{name}: ref_year and window_years are missing or not years.") from None
    df = pd.DataFrame(doc["communes"])
    base.require_columns(df, ["insee", "total", "recent", "last_year"], name=name)
    unknown = sorted(set(df.columns) - {"insee", "total", "recent", "last_year", *CATEGORIES})
    if unknown:
        raise SchemaError(f"{name}: unknown keys {unknown}: a new category? (known: {sorted(CATEGORIES)})")
    for c in CATEGORIES:
        df[c] = df[c].fillna(0) if c in df.columns else 0  # absent category = 0 (documented by the file)
    df["commune_code"] = base.check_codes(df["insee"], name=name, column="insee")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated communes, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, [*COUNTS, "last_year"], name=name)
    base.check_ranges(df, {**{c: (0, 1000) for c in COUNTS}, "last_year": (FIRST_YEAR, ref_year)}, name=name)
    if df[list(COUNTS) + ["last_year"]].isna().any().any():
        raise SchemaError(f"{name}: empty counts (total, recent, last_year must be given for every commune).")
    over = df[list(CATEGORIES)].sum(axis=1) > df["total"]
    if over.any() or (df["recent"] > df["total"]).any():
        raise SchemaError(f"{name}: categories or recent decrees exceed the total for {int(over.sum())} communes: "
                          "the counts changed meaning.")
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(len(df), totals.get("communes"), name=name, what="communes")
    gazetteer.check_published_total(df["total"].sum(), totals.get("arretes"), name=name, what="arrêtés CatNat")
    return df[["commune_code", *COUNTS, "last_year"]], ref_year, window


def tidy(df: pd.DataFrame, ref_year: int) -> pd.DataFrame:
    variables = {k: (v, "arrêtés") for k, v in COUNTS.items()}
    variables["last_year"] = ("catnat_derniere_annee", "année")
    long = base.melt(df, key="commune_code", year=ref_year, variables=variables)
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the CatNat decree counts per commune."""
    df, ref_year, _ = parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache))
    return tidy(df, ref_year)
