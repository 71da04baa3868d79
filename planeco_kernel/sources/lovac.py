"""LOVAC 2025 — vacant and long-term vacant private dwellings (fiscal file), rates per commune.

Source: LOVAC (« LOgements VACants »), the fiscal file of vacant private dwellings built by the
DGFiP and Cerema for the ministry of housing (programme Zéro Logement Vacant), 2025 edition,
rates per commune mirrored as ``logement/lovac_2025_communes.csv`` (aggregated by
bpineau/gazetteer, see :mod:`planeco_kernel.sources.gazetteer`).

Layout (``;``-separated, UTF-8, one row per commune)::

    INSEE_C;taux_vacance_25_pct;taux_vacance_long_25_pct
    01004;6.29;3.48

``taux_vacance_25_pct``: vacant private dwellings, % of private dwellings (1 January 2025);
``taux_vacance_long_25_pct``: vacant for more than two years, same denominator. Empty =
statistical secret (fewer than 11 dwellings), never 0.

Why it differs from census vacancy: the census counts a dwelling vacant on the day of the
survey, whoever owns it (social housing included); LOVAC counts private dwellings recorded as
vacant on 1 January in the tax files (housing tax), with its own rules — the two rates measure
different things and must be shown side by side, not merged.

Facts checked on the mirrored file (this machine): 16,501 communes; 14,721 vacancy rates and
10,516 long-term rates given; Paris, Lyon and Marseille appear only as their 45 arrondissements
(a rate does not add up: the three communes have no value at commune level); long-term ≤ vacant
wherever both are given.

Variables (tidy, year 2025, %): ``taux_vacance_lovac_pct``, ``taux_vacance_longue_lovac_pct``.

**Official file (online).** The publisher's own file is « Logements vacants du parc privé par
commune, département, région, France » (LOVAC open data, Cerema / DHUP, data.gouv.fr dataset
``61816c6e23197bb34835228e``), resource ``Lovac_opendata_Communes.csv``: ``;``-separated,
Latin-1, one row per commune, columns ``CODGEO_<yy>, LIBGEO_<yy>`` (the geography of the latest
year) then, per year ``yy`` from 20, ``pp_vacant_<yy>`` (vacant private dwellings),
``pp_vacant_plus_2ans_<yy>`` (vacant for more than two years) and the private stock
``ff_pp_total_<yy>`` (``pp_total_<yy>`` in older editions); ``s`` = statistical secret.
:func:`parse_official` reads it strictly and keeps the **counts**, so that a merged commune's or
Paris / Lyon / Marseille's rate is the ratio of summed counts (the rates of the mirror aggregate
cannot be combined without the stock). This layout is taken from two public projects that read
the file (column names and the ``s`` convention), **not verified here against a downloaded file**
(this machine is offline); it is tested on the invented fixture
``tests/fixtures/sources/test-data_Lovac_opendata_Communes.csv``. Online, the resource URL is
found through the data.gouv.fr API (``/api/1/datasets/<id>/``: the CSV resource whose title
names the communes); a copy placed in the mirror as ``logement/Lovac_opendata_Communes.csv``
is read first.

Extra variables from the official file (counts, year 2025): ``logements_vacants_prives_lovac``,
``logements_vacants_longs_prives_lovac``, ``parc_prive_lovac``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "lovac"
YEAR = 2025

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.data.gouv.fr/fr/datasets/logements-vacants-du-parc-prive-par-anciennete-de-vacance-par-commune-et-par-epci/",
    "lovac_2025_communes.csv", mirror_path="logement/lovac_2025_communes.csv", sep=";", encodings=("utf-8-sig",),
    extra={"mirror_only": True, "totals": {"communes": 16501}},
)

COLUMNS = {"taux_vacance_25_pct": ("taux_vacance_lovac_pct", "%"),
           "taux_vacance_long_25_pct": ("taux_vacance_longue_lovac_pct", "%")}


DATASET_ID = "61816c6e23197bb34835228e"
DATASET_API = f"https://www.data.gouv.fr/api/1/datasets/{DATASET_ID}/"
OFFICIAL_RELEASE = Release(
    SOURCE_ID, YEAR, DATASET_API, "Lovac_opendata_Communes.csv", mirror_path="logement/Lovac_opendata_Communes.csv",
    sep=";", encodings=("latin-1",), note="LOVAC open data, fichier par commune (Cerema / DHUP).",
)
COUNTS = {"pp_vacant": ("logements_vacants_prives_lovac", "logements"),
          "pp_vacant_plus_2ans": ("logements_vacants_longs_prives_lovac", "logements"),
          "total": ("parc_prive_lovac", "logements")}


SECRET_REASON = "valeur sous secret statistique dans LOVAC (moins de 11 logements concernés)"
"""Why LOVAC gives no rate for a commune it lists (the bundle's ``missing_reasons``)."""


def parse_official(path: Path, rel: Release = OFFICIAL_RELEASE, year: int = YEAR) -> pd.DataFrame:
    """Parse the official per-commune file (see the module docstring) for ``year``.

    Returns ``commune_code`` and the three counts (``pp_vacant``, ``pp_vacant_plus_2ans``,
    ``total``; NaN = secret « s ») with the two rates computed from them (same names as
    :func:`parse`).

    Raises
    ------
    SchemaError
        No ``CODGEO_<yy>`` column, the year's columns are missing, a count is neither a number
        nor ``s``, long-term vacancy exceeds vacancy or vacancy the stock; the message names the file.
    """
    import re

    name = rel.filename
    yy = f"{year % 100:02d}"
    header, _enc = base.peek_header(base.TableFile(path, name=name, member=rel.member), sep=rel.sep, encodings=rel.encodings)
    code_cols = sorted(c for c in header if re.fullmatch(r"CODGEO_\d{2}", c))
    total_col = next((c for c in (f"ff_pp_total_{yy}", f"pp_total_{yy}") if c in header), None)
    wanted = {"pp_vacant": f"pp_vacant_{yy}", "pp_vacant_plus_2ans": f"pp_vacant_plus_2ans_{yy}"}
    missing = [c for c in wanted.values() if c not in header] + ([] if total_col else [f"ff_pp_total_{yy}"])
    if not code_cols or missing:
        raise SchemaError(f"{name}: expected CODGEO_<yy> and, for {year}, columns {missing or list(wanted.values())} "
                          f"(found {list(header)[:12]} …). Another edition or layout: pass the matching year.")
    assert total_col is not None
    wanted["total"] = total_col
    df = base.read_csv(path, rel, usecols=[code_cols[-1], *wanted.values()])
    df["commune_code"] = base.check_codes(df[code_cols[-1]], name=name, column=code_cols[-1])
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated {code_cols[-1]}, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    out = pd.DataFrame({"commune_code": df["commune_code"]})
    for key, col in wanted.items():
        raw = df[col].astype("string").str.strip()
        secret = raw.isna() | (raw.str.lower() == "s")
        values = pd.to_numeric(raw.where(~secret), errors="coerce")
        bad = values.isna() & ~secret
        if bad.any() or (values < 0).any():
            raise SchemaError(f"{name}: {col} must be a count ≥ 0 or « s » (secret); found {raw[bad].head(3).tolist()}.")
        out[key] = values.astype(float)
    if (out["pp_vacant_plus_2ans"] > out["pp_vacant"]).any() or (out["pp_vacant"] > out["total"]).any():
        raise SchemaError(f"{name}: long-term vacant > vacant or vacant > private stock for "
                          f"{out.loc[(out['pp_vacant_plus_2ans'] > out['pp_vacant']) | (out['pp_vacant'] > out['total']), 'commune_code'].head(3).tolist()}: "
                          "columns swapped or layout changed.")
    stock = out["total"].where(out["total"] > 0)
    out["taux_vacance_25_pct"] = out["pp_vacant"] / stock * 100
    out["taux_vacance_long_25_pct"] = out["pp_vacant_plus_2ans"] / stock * 100
    return out


def tidy_official(wide: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    variables = {**COLUMNS, **COUNTS}
    long = base.melt(wide, key="commune_code", year=year, variables=variables)
    return base.drop_withheld(long, name=OFFICIAL_RELEASE.filename, reason=SECRET_REASON)


def resolve_official_url(dataset: dict) -> str:
    """The URL of the per-commune CSV among a data.gouv.fr dataset's ``resources`` (API v1 JSON).

    Raises
    ------
    SourceUnavailableError
        No resource of the dataset looks like the per-commune CSV.
    """
    from planeco_kernel.errors import SourceUnavailableError

    for res in dataset.get("resources") or []:
        label = f"{res.get('title', '')} {res.get('url', '')}".lower()
        if "commune" in label and (res.get("format") or "").lower() == "csv" and res.get("url"):
            return str(res["url"])
    raise SourceUnavailableError(
        f"LOVAC : le jeu de données data.gouv.fr {DATASET_ID} n'a plus de fichier CSV par commune. Téléchargez "
        "« Lovac_opendata_Communes.csv » à la main et placez-le dans le miroir (logement/Lovac_opendata_Communes.csv).")


def load_official(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """The official per-commune file (mirror copy, else data.gouv.fr through its API), tidy with counts."""
    import json

    from planeco_kernel.sources.fetch import fetch_url

    root = base.resolve_mirror(mirror)
    local = root / OFFICIAL_RELEASE.mirror_path if root is not None and OFFICIAL_RELEASE.mirror_path else None
    if url is None and (local is None or not local.is_file()):
        meta = fetch_url(DATASET_API, cache=cache)
        try:
            dataset = json.loads(Path(meta.path).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SchemaError(f"{DATASET_API}: not the JSON of a data.gouv.fr dataset ({exc}).") from None
        url = resolve_official_url(dataset)
    path = base.obtain(OFFICIAL_RELEASE, mirror=mirror, url=url, cache=cache).path
    return tidy_official(parse_official(path))


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return ``commune_code`` and the two rates (NaN = secret)."""
    df = base.read_csv(path, rel, required=["INSEE_C", *COLUMNS], usecols=["INSEE_C", *COLUMNS])
    name = rel.filename
    df["commune_code"] = base.check_codes(df["INSEE_C"], name=name, column="INSEE_C")
    if df["commune_code"].duplicated().any():
        raise SchemaError(f"{name}: duplicated INSEE_C, e.g. {df.loc[df['commune_code'].duplicated(), 'commune_code'].head(3).tolist()}")
    df = base.to_numeric(df, COLUMNS, name=name)
    base.check_ranges(df, {c: (0, 100) for c in COLUMNS}, name=name)
    both = df[list(COLUMNS)].notna().all(axis=1)
    if (df.loc[both, "taux_vacance_long_25_pct"] > df.loc[both, "taux_vacance_25_pct"] + 0.01).any():
        raise SchemaError(f"{name}: long-term vacancy exceeds vacancy: the two columns are swapped.")
    gazetteer.check_published_total(len(df), (rel.extra.get("totals") or {}).get("communes"), name=name, what="communes")
    return df[["commune_code", *COLUMNS]]


def tidy(wide: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    long = base.melt(wide, key="commune_code", year=year, variables=COLUMNS)
    return base.drop_withheld(long, name=RELEASE.filename, reason=SECRET_REASON)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the LOVAC 2025 rates per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
