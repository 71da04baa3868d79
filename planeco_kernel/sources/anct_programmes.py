"""ANCT programmes — Action Cœur de Ville, Petites Villes de Demain, ORT: member communes and signature dates.

Source: Agence nationale de la cohésion des territoires (ANCT), lists of the communes of the
programmes Action Cœur de Ville (ACV), Petites Villes de Demain (PVD) and of the Opérations de
revitalisation de territoire (ORT) on data.gouv.fr, merged per commune by bpineau/gazetteer
(snapshot of 2026-07-23) and mirrored as ``anct/programmes_acv_pvd_ort.json`` (see
:mod:`planeco_kernel.sources.gazetteer`).

Layout (JSON)::

    {"meta": {"row_count_acv": 245, "row_count_pvd": 1646, "row_count_ort": 2265, ...},
     "communes": {"01053": {"label": "Bourg-en-Bresse", "acv": true, "acv_signed_at": "2024-01-25",
                            "ort": true, "ort_signed_at": "2019-10-07"}, ...}}

A programme key is ``true`` for member communes; ``<programme>_signed_at`` is the signature
date of its convention (ISO date), absent for 58 PVD, 1 ACV… where it is not published. A
commune absent from the file takes part in none of the three programmes.

Facts checked on the mirrored file (this machine): 2,390 communes; 245 ACV, 1,646 PVD and 2,265
ORT communes (the mirror README's totals); dates from 2018 to 2026.

Tidy variables (year 2026 = the snapshot): ``programme_acv``, ``programme_pvd``, ``programme_ort``
(1 = member; 0 for the communes absent, filled by the catalogue's ``absent: zero``), and, for the
Fiche's badges, ``programme_<p>_signature`` (the date as the number YYYYMMDD, unit ``date``);
:func:`badges` turns a commune's rows back into dates.

**Official files (online).** The publishers' own lists, as bpineau/gazetteer reads them to make the
mirror file (``sources/anct/transform.go`` and its samples):

- ACV: the CSV « liste-acv-com<COG>-<date>.csv » of the data.gouv.fr dataset
  ``programme-action-coeur-de-ville`` (ANCT): ``,``-separated, quoted, columns ``insee_com``,
  ``lib_com``, ``id_acv``, ``lib_acv``, ``date_signature`` (``DD-MM-YYYY``);
- PVD: the CSV « liste-pvd-com<COG>-<date>.csv » of the dataset ``programme-petites-villes-de-demain``
  (ANCT): ``insee_com``, ``lib_com``, ``id_pvd``, ``date_signature`` (``YYYY-MM-DD``, ``DD/MM/YYYY``
  since 2026);
- ORT: the national list of the communes covered by an ORT of the ministry in charge of territorial
  cohesion (DGALN), a CSV export of its Grist table: ``,``-separated, columns among others
  ``Code commune``, ``Signée ?`` and ``Si signée, date de signature`` (ISO); only the rows whose
  ``Signée ?`` is « Signée » make a commune an ORT member (candidate, unsigned and ended
  conventions do not).

:func:`parse_official` reads the three strictly into the frame of :func:`parse`: a missing column
is an error naming the file and the column; a row without a commune code names no commune and is
dropped; an empty date stays missing (no signature row, never a made-up date); a date in none of
the three forms above, or outside 2017 – next year, is an error; a commune listed twice in a list
keeps its earliest date. The lists are live registers, replaced in place: no total is declared
for them (the mirror's 245 / 1,646 / 2,265 belong to the 2026-07-23 snapshot), but a list far
below the mirror's counts (fewer than :data:`OFFICIAL_FLOORS` communes: a narrowed export, as
gazetteer once met for the ORT list) stops the build like a wrong published total. The tidy
year is the year the lists were obtained (the modification time of the files read). These
layouts are taken from gazetteer's code and samples, **not verified here against downloaded
files** (this machine is offline); they are tested on invented files in these layouts. Online,
the ACV and PVD resources are found through the data.gouv.fr API (``/api/1/datasets/<slug>/``:
the CSV resource whose title or URL names ``liste-acv-com`` / ``liste-pvd-com``); the ORT list is
the Grist export URL that gazetteer reads. Copies placed in the mirror as
``anct/liste-acv-com.csv``, ``anct/liste-pvd-com.csv`` and ``anct/liste-ort-communes.csv`` are read
first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "anct_programmes"
YEAR = 2026

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.data.gouv.fr/fr/organizations/agence-nationale-de-la-cohesion-des-territoires/",
    "programmes_acv_pvd_ort.json", mirror_path="anct/programmes_acv_pvd_ort.json",
    note="Listes ANCT, instantané du 23 juillet 2026.",
    extra={"mirror_only": True, "totals": {"acv": 245, "pvd": 1646, "ort": 2265}},
)

ANCT_URL = "https://agence-cohesion-territoires.gouv.fr/"
PROGRAMMES = {
    "acv": ("Action Cœur de Ville", ANCT_URL),
    "pvd": ("Petites Villes de Demain", ANCT_URL),
    "ort": ("Opération de revitalisation de territoire", ANCT_URL),
}
"""Programme key → (French name, where to read about it: the ANCT site; programme pages were not
verified offline)."""


@dataclass(frozen=True)
class Badge:
    """One programme a commune takes part in."""

    key: str
    label: str
    signed_at: dt.date | None
    url: str


DATASET_SLUGS = {"acv": "programme-action-coeur-de-ville", "pvd": "programme-petites-villes-de-demain"}
ORT_URL = ("https://grist.numerique.gouv.fr/o/dgaln/api/docs/j4i9oKD3jzFtgEUuM9sXnL/download/csv?viewSection=3&tableId=BDD"
           "&activeSortSpec=%5B102%5D&filters=%5B%5D&linkingFilter=%7B%22filters%22%3A%7B%7D%2C%22operations%22%3A%7B%7D%7D")
"""The ORT list's CSV export (Grist table of the DGALN), the URL read by bpineau/gazetteer."""
OFFICIAL_RELEASES = {
    "acv": Release(SOURCE_ID, 0, f"https://www.data.gouv.fr/api/1/datasets/{DATASET_SLUGS['acv']}/", "liste-acv-com.csv",
                   mirror_path="anct/liste-acv-com.csv", sep=",", note="Liste des communes Action Cœur de Ville (ANCT)."),
    "pvd": Release(SOURCE_ID, 0, f"https://www.data.gouv.fr/api/1/datasets/{DATASET_SLUGS['pvd']}/", "liste-pvd-com.csv",
                   mirror_path="anct/liste-pvd-com.csv", sep=",", note="Liste des communes Petites Villes de Demain (ANCT)."),
    "ort": Release(SOURCE_ID, 0, ORT_URL, "liste-ort-communes.csv", mirror_path="anct/liste-ort-communes.csv", sep=",",
                   note="Liste nationale des communes couvertes par une ORT (DGALN)."),
}
OFFICIAL_WHERE = "data.gouv.fr (listes ACV et PVD de l'ANCT) et export Grist de la DGALN (liste des ORT)"
"""Where the official lists are found when online (shown as the bundle's origin)."""
OFFICIAL_COLUMNS = {"acv": ("insee_com", "date_signature"), "pvd": ("insee_com", "date_signature"),
                    "ort": ("Code commune", "Si signée, date de signature")}
"""Programme → (commune code column, signature date column) of its official list."""
ORT_SIGNED = ("Signée ?", "signée")
OFFICIAL_FLOORS = {"acv": 200, "pvd": 1400, "ort": 1800}
"""Fewest member communes accepted per list (about 80 % of the 2026-07-23 snapshot's counts)."""
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def _official_dates(raw: pd.Series, *, name: str, column: str, last: int) -> pd.Series:
    text = raw.astype("string").str.strip().replace("", pd.NA)
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    for f in _DATE_FORMATS:
        parsed = parsed.fillna(pd.to_datetime(text, format=f, errors="coerce"))
    bad = text.notna() & parsed.isna()
    if bad.any():
        raise SchemaError(f"{name}: unreadable dates in column {column!r}, e.g. {text[bad].head(3).tolist()} "
                          "(expected YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY).")
    if parsed.notna().any() and (parsed.min().year < 2017 or parsed.max().year > last):
        raise SchemaError(f"{name}: dates of column {column!r} outside 2017–{last}: they are not signature dates.")
    return parsed


def parse_official_list(programme: str, path: Path, rel: Release | None = None, *, last_year: int | None = None) -> pd.DataFrame:
    """One programme's official list: ``commune_code, <p>_signed_at`` (one row per member commune).

    Raises
    ------
    SchemaError
        A column is missing (the message names the file and the column), a code or a date is unreadable.
    """
    rel = rel or OFFICIAL_RELEASES[programme]
    name = rel.filename
    last = last_year if last_year is not None else dt.date.today().year + 1
    code_col, date_col = OFFICIAL_COLUMNS[programme]
    wanted = [code_col, date_col, *([ORT_SIGNED[0]] if programme == "ort" else [])]
    df = base.read_csv(path, rel, required=wanted, usecols=wanted)
    df = df.loc[df[code_col].notna() & (df[code_col].str.strip() != "")].copy()  # no code: no commune
    if programme == "ort":
        df = df.loc[df[ORT_SIGNED[0]].fillna("").str.strip().str.casefold() == ORT_SIGNED[1]]
    df["commune_code"] = base.check_codes(df[code_col], name=name, column=code_col)
    df[f"{programme}_signed_at"] = _official_dates(df[date_col], name=name, column=date_col, last=last)
    out = df.sort_values(f"{programme}_signed_at").drop_duplicates("commune_code")  # NaT last: the earliest date kept
    return out[["commune_code", f"{programme}_signed_at"]].reset_index(drop=True)


def parse_official(paths: dict[str, Path], releases: dict[str, Release] | None = None, *,
                   last_year: int | None = None) -> pd.DataFrame:
    """Merge the three official lists into the frame of :func:`parse`.

    Raises
    ------
    SchemaError
        See :func:`parse_official_list`.
    PublishedTotalError
        A list holds fewer communes than its floor (:data:`OFFICIAL_FLOORS`, or the releases' ``floor``).
    """
    releases = releases or OFFICIAL_RELEASES
    merged: pd.DataFrame | None = None
    for p in PROGRAMMES:
        rel = releases[p]
        one = parse_official_list(p, paths[p], rel, last_year=last_year)
        floor = rel.extra.get("floor", OFFICIAL_FLOORS[p])
        if len(one) < floor:
            raise gazetteer.PublishedTotalError(
                f"{rel.filename}: {len(one)} communes {p.upper()} only, fewer than the {floor} expected (the list held "
                f"{RELEASE.extra['totals'][p]} on 2026-07-23): a truncated or narrowed export; the bundle is not rebuilt with it.")
        one[p] = True
        merged = one if merged is None else merged.merge(one, on="commune_code", how="outer")
    assert merged is not None
    for p in PROGRAMMES:
        merged[p] = merged[p].fillna(False).astype(bool)
    cols = ["commune_code", *(c for p in PROGRAMMES for c in (p, f"{p}_signed_at"))]
    return merged[cols].sort_values("commune_code").reset_index(drop=True)


def official_mirror_files(mirror: str | Path | None = None) -> list[Path]:
    """The mirror's copies of the three official lists (read then without the network), or ``[]`` unless all three are there."""
    root = base.resolve_mirror(mirror)
    files = [root / r.mirror_path for r in OFFICIAL_RELEASES.values() if root is not None and r.mirror_path]
    return files if len(files) == len(OFFICIAL_RELEASES) and all(f.is_file() for f in files) else []


def resolve_official_url(programme: str, dataset: dict) -> str:
    """The URL of the ACV or PVD communes CSV among a data.gouv.fr dataset's ``resources``.

    Raises
    ------
    SourceUnavailableError
        No resource looks like the list.
    """
    from planeco_kernel.sources import datagouv

    key = f"liste-{programme}-com"
    missing = (f"ANCT : le jeu de données data.gouv.fr « {DATASET_SLUGS[programme]} » n'a plus de fichier CSV « {key}… ». "
               f"Téléchargez la liste des communes à la main et placez-la dans le miroir ({OFFICIAL_RELEASES[programme].mirror_path}).")
    return datagouv.pick_resource(dataset, lambda r: datagouv.fmt(r) == "csv" and key in datagouv.label(r), missing=missing)


def load_official(*, mirror: str | Path | None = None, urls: dict[str, str] | None = None, cache=None) -> pd.DataFrame:
    """The three official lists (mirror copies, else the publishers), merged and tidy like :func:`load`.

    ``urls`` overrides a programme's URL (``{"ort": "file:///…"}``): three files, so no single ``url``.
    """
    from planeco_kernel.sources import datagouv

    root = base.resolve_mirror(mirror)
    paths: dict[str, Path] = {}
    for p, rel in OFFICIAL_RELEASES.items():
        target = (urls or {}).get(p)
        local = root / rel.mirror_path if root is not None and rel.mirror_path else None
        if target is None and (local is None or not local.is_file()):
            target = ORT_URL if p == "ort" else resolve_official_url(p, datagouv.fetch_dataset(rel.url, cache=cache))
        paths[p] = base.obtain(rel, mirror=mirror, url=target, cache=cache).path
    year = max(dt.date.fromtimestamp(path.stat().st_mtime).year for path in paths.values())
    return tidy(parse_official(paths, last_year=year + 1), year=year)


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return ``commune_code, acv, pvd, ort`` (bool) and ``<p>_signed_at`` (date or NaT)."""
    name = rel.filename
    rows = gazetteer.commune_map(gazetteer.read_json(path, name=name), name=name)
    known = {"label", *PROGRAMMES, *(f"{p}_signed_at" for p in PROGRAMMES)}
    records = []
    for code, rec in rows.items():
        unknown = sorted(set(rec) - known) if isinstance(rec, dict) else ["<not an object>"]
        if unknown:
            raise SchemaError(f"{name}: commune {code}: unknown keys {unknown} (known: {sorted(known)}).")
        row = {"commune_code": code}
        for p in PROGRAMMES:
            flag = rec.get(p, False)
            if flag not in (True, False):
                raise SchemaError(f"{name}: commune {code}: {p!r} must be true/false, found {flag!r}.")
            row[p] = flag
            row[f"{p}_signed_at"] = rec.get(f"{p}_signed_at")
            if row[f"{p}_signed_at"] is not None and not flag:
                raise SchemaError(f"{name}: commune {code}: a {p} signature date without membership.")
        records.append(row)
    df = pd.DataFrame.from_records(records)
    for p in PROGRAMMES:
        col = f"{p}_signed_at"
        raw = df[col]
        parsed = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
        bad = raw.notna() & parsed.isna()
        if bad.any():
            raise SchemaError(f"{name}: unreadable dates in {col!r}, e.g. {raw[bad].head(3).tolist()} (expected YYYY-MM-DD).")
        if parsed.notna().any() and (parsed.min().year < 2017 or parsed.max().year > YEAR + 1):
            raise SchemaError(f"{name}: {col!r} outside 2017–{YEAR + 1}: the dates are not signature dates.")
        df[col] = parsed
    totals = rel.extra.get("totals") or {}
    for p in PROGRAMMES:
        gazetteer.check_published_total(int(df[p].sum()), totals.get(p), name=name, what=f"communes {p.upper()}")
    return df


def tidy(df: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    wide = df[["commune_code"]].copy()
    variables: dict[str, tuple[str, str]] = {}
    for p in PROGRAMMES:
        wide[f"programme_{p}"] = df[p].astype("float64")  # 1 member, 0 listed for another programme
        date = df[f"{p}_signed_at"]
        wide[f"programme_{p}_signature"] = (date.dt.year * 10000 + date.dt.month * 100 + date.dt.day).astype("float64")
        variables[f"programme_{p}"] = (f"programme_{p}", "commune")
        variables[f"programme_{p}_signature"] = (f"programme_{p}_signature", "date")
    long = base.melt(wide, key="commune_code", year=year, variables=variables).dropna(subset=["value"])  # no date: no row
    return base.validate_tidy(long, name=RELEASE.filename)


def badges(rows: pd.DataFrame) -> list[Badge]:
    """The programmes of one commune from its tidy rows (``variable, value``), in ACV, PVD, ORT order."""
    values = dict(zip(rows["variable"].astype(str), rows["value"].astype(float)))
    out = []
    for p, (label, url) in PROGRAMMES.items():
        if values.get(f"programme_{p}") != 1.0:
            continue
        raw = values.get(f"programme_{p}_signature")
        date = None
        if raw is not None and raw == raw:
            n = int(raw)
            date = dt.date(n // 10000, n // 100 % 100, n % 100)
        out.append(Badge(p, label, date, url))
    return out


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the ANCT programme memberships."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
