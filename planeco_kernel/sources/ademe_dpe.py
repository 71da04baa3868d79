"""ADEME — energy performance certificates (DPE) of existing dwellings, label distribution by commune.

Dataset « DPE Logements existants (depuis juillet 2021) », id ``dpe03existant``, on ADEME's data
portal (https://data.ademe.fr/datasets/dpe03existant), served by the data-fair API:
``https://data.ademe.fr/data-fair/api/v1/datasets/dpe03existant/lines``. The whole dataset has
over ten million certificates, so planeco asks only for the communes it needs, with the column
filter ``code_insee_ban_in=01001,01002`` and ``select=`` of five fields: ``numero_dpe``,
``code_insee_ban`` (INSEE code of the geocoded address), ``date_etablissement_dpe``
(``YYYY-MM-DD``), ``etiquette_dpe`` and ``etiquette_ges`` (``A`` … ``G``). Each answer is JSON
``{"total": n, "results": [...], "next": "<url of the next page>"}``; ``next`` is absent on the
last page. Every page goes through the download cache, so a build is reproducible (delete the
cache entries to take newer certificates into account).

Offline, a CSV export of the same dataset (comma-separated, the same field names as header) can be
placed in the mirror as ``ademe/dpe03existant.csv``; it is filtered to the requested communes.

The tidy output counts certificates by commune, year of issue and label:
``nb_dpe_{a…g}`` (energy label), ``nb_dpe_ges_{a…g}`` (climate label) and ``nb_dpe_total``.
Certificates are not dwellings: a dwelling can have several, and most dwellings have none.

References
----------
Endpoint, ``_in``/``_eq`` column filters, the ``next`` paging and field names (``numero_dpe``,
``code_insee_ban``, ``date_etablissement_dpe``, ``etiquette_dpe``, ``etiquette_ges``,
``code_postal_ban``, ``code_departement_ban``): public code using this API (README notes « vérifiés
en conditions réelles » on ``dpe03existant``, collectors listing the columns, clients filtering
``code_insee_ban_eq``). Some recent clients address the same dataset by its internal id,
``https://data.ademe.fr/data-fair/api/v1/datasets/meg-83tjwtg8dyz4vv7h1dqe/lines``; if the slug
stops answering, pass that URL with ``url=``. Not queried from this machine (no internet).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release, TruncatedFileError

SOURCE_ID = "ademe_dpe"

API_URL = "https://data.ademe.fr/data-fair/api/v1/datasets/dpe03existant/lines"
FIELDS = ("numero_dpe", "code_insee_ban", "date_etablissement_dpe", "etiquette_dpe", "etiquette_ges")
LABELS = tuple("ABCDEFG")
PAGE_SIZE = 10_000
COMMUNES_PER_QUERY = 50

RELEASE = Release(
    SOURCE_ID, 0, API_URL, "dpe03existant (API data.ademe.fr)", mirror_path="ademe/dpe03existant.csv", sep=",",
)


def query_url(communes: Sequence[str], *, base_url: str = API_URL, size: int = PAGE_SIZE) -> str:
    """The first page's URL for a group of communes."""
    params = {"size": str(size), "select": ",".join(FIELDS), "code_insee_ban_in": ",".join(communes)}
    return f"{base_url}?{urllib.parse.urlencode(params, safe=',')}"


def fetch_pages(communes: Iterable[str], *, base_url: str = API_URL, cache=None, size: int = PAGE_SIZE) -> list[Path]:
    """Download every page of certificates for the communes (through the cache); return the page files."""
    from planeco_kernel.sources.fetch import fetch_url

    codes = sorted(set(communes))
    for code in codes:
        base.check_codes(pd.Series([code]), name="communes demandées", column="commune_code")
    paths: list[Path] = []
    for i in range(0, len(codes), COMMUNES_PER_QUERY):
        url: str | None = query_url(codes[i : i + COMMUNES_PER_QUERY], base_url=base_url, size=size)
        seen = 0
        while url:
            art = fetch_url(url, cache=cache)
            page = _read_page(art.path, url)
            paths.append(art.path)
            seen += 1
            if seen > 10_000:
                raise SchemaError(f"{RELEASE.filename}: more than 10,000 pages for one query; the API paging changed.")
            url = page.get("next") or None
    return paths


def _read_page(path: Path, url: str) -> dict:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        page = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TruncatedFileError(
            f"{RELEASE.filename}: réponse JSON tronquée ou invalide pour {url} ({exc.msg}, position {exc.pos}). "
            "Supprimez l'entrée du cache (PLANECO_CACHE) et relancez."
        ) from exc
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        raise SchemaError(f"{RELEASE.filename}: answer without a 'results' list for {url}; the API changed.")
    return page


def parse_pages(paths: Iterable[Path]) -> pd.DataFrame:
    """Validate the certificates of downloaded API pages; return one row per certificate."""
    rows: list[dict] = []
    for p in paths:
        rows.extend(_read_page(p, str(p))["results"])
    df = pd.DataFrame(rows, columns=None if rows else list(FIELDS))
    return _validate(df, name=RELEASE.filename)


def parse_export(path: Path, communes: Iterable[str] | None = None) -> pd.DataFrame:
    """Validate a CSV export of the dataset (mirror), filtered to ``communes`` when given."""
    rel = Release(SOURCE_ID, 0, API_URL, "dpe03existant.csv", sep=",")
    df = base.read_csv(path, rel, required=FIELDS, usecols=FIELDS)
    if communes is not None:
        df = df[df["code_insee_ban"].isin(set(communes))]
    return _validate(df, name=rel.filename)


def _validate(df: pd.DataFrame, *, name: str) -> pd.DataFrame:
    base.require_columns(df, FIELDS, name=name)
    df = df.loc[:, list(FIELDS)].astype("string")
    df["commune_code"] = base.check_codes(df["code_insee_ban"], name=name, column="code_insee_ban")
    for col in ("etiquette_dpe", "etiquette_ges"):
        bad = df[col].notna() & ~df[col].isin(LABELS)
        if bad.any():
            raise SchemaError(f"{name}: unknown labels in column {col!r}: {sorted(df.loc[bad, col].unique())[:5]} (expected A … G)")
    dates = pd.to_datetime(df["date_etablissement_dpe"], format="%Y-%m-%d", errors="coerce")
    bad = df["date_etablissement_dpe"].notna() & dates.isna()
    if bad.any():
        raise SchemaError(f"{name}: unreadable dates in 'date_etablissement_dpe', e.g. {df.loc[bad, 'date_etablissement_dpe'].head(3).tolist()}")
    df["year"] = dates.dt.year
    if df["numero_dpe"].duplicated().any():
        df = df.drop_duplicates("numero_dpe")
    return df.dropna(subset=["year"])


def tidy(certs: pd.DataFrame) -> pd.DataFrame:
    """Counts of certificates by commune, year and label (energy and climate), and totals."""
    frames = []
    for col, prefix in (("etiquette_dpe", "nb_dpe_"), ("etiquette_ges", "nb_dpe_ges_")):
        counts = certs.dropna(subset=[col]).groupby(["commune_code", "year", col]).size().rename("value").reset_index()
        counts["variable"] = prefix + counts[col].str.lower()
        frames.append(counts.drop(columns=[col]))
    total = certs.groupby(["commune_code", "year"]).size().rename("value").reset_index()
    total["variable"] = "nb_dpe_total"
    frames.append(total)
    long = pd.concat(frames, ignore_index=True)
    long["unit"] = "DPE"
    long["value"] = long["value"].astype("float64")
    return base.validate_tidy(long[list(base.TIDY_COLUMNS)], name=RELEASE.filename)


def load(
    communes: Iterable[str],
    *,
    mirror: str | Path | None = None,
    url: str | None = None,
    cache=None,
) -> pd.DataFrame:
    """Certificates' label distribution for ``communes``: from the mirror export if present, else the API.

    Parameters
    ----------
    communes
        INSEE codes of the communes wanted.
    url
        Another API endpoint (same protocol), e.g. a test server.
    """
    communes = list(communes)
    root = base.resolve_mirror(mirror)
    if url is None and root is not None and (root / RELEASE.mirror_path).is_file():
        return tidy(parse_export(root / RELEASE.mirror_path, communes))
    return tidy(parse_pages(fetch_pages(communes, base_url=url or API_URL, cache=cache)))
