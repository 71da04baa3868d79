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
