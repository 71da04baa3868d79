"""Cerema Cartofriches — referenced brownfield sites per commune, by type and status, land-unit surface.

Source: Cerema, Cartofriches (https://cartofriches.cerema.fr/, national inventory of brownfields
— « friches » — fed by the national data and by local observatories; open data on data.gouv.fr),
aggregated per commune by bpineau/gazetteer (snapshot of 2026-07-23) and mirrored as
``cerema/cartofriches_communes.json.gz`` (see :mod:`planeco_kernel.sources.gazetteer`).

Layout (gzip JSON)::

    {"meta": {"row_count_communes": 9138, "row_count_sites": 27983, ...},
     "communes": {"61214": {"label": "L'Aigle", "n": 28,
                            "by_type": {"friche d'habitat": 19, ...},
                            "by_status": {"friche sans projet": 17, "friche avec projet": 11},
                            "total_surface_m2": 160728}, ...}}

``n`` sites; ``by_type`` and ``by_status`` split ``n`` exactly (checked); statuses: « friche
sans projet », « friche avec projet », « friche reconvertie », « friche potentielle » (reported
by a local source, not confirmed). ``total_surface_m2`` is the surface of the **land units**
(« unités foncières ») the sites stand on, which can be far larger than the brownfield itself
(a whole industrial estate for one empty building): it is labelled so, never « surface de
friche ». A commune absent from the file has no referenced site (0) — which is not proof that it
has no brownfield: the inventory is incomplete by nature.

Facts checked on the mirrored file (this machine): 9,138 communes, 27,983 sites (the mirror
README's totals); 19 types, 4 statuses.

**Official site list (online).** Cerema publishes the inventory itself, one row per site, as
« Sites référencés dans Cartofriches » on data.gouv.fr (``friches-standard-<date>.csv``,
``;``-separated, quoted, UTF-8, ``NA`` for a missing cell), in the layout of the CNIG « Friches »
standard (schema ``cnigfr/schema-friches`` v1.0.1, read on schema.data.gouv.fr): ``site_id,
site_nom, site_type, site_statut, comm_nom, comm_insee, unite_fonciere_surface`` (m², integer)
and the site's centroid ``geompoint`` (WKT ``POINT``; the national extract also carries
``longitude`` / ``latitude`` columns, which win when present). :func:`parse_sites` reads it
strictly and :func:`aggregate` gives the same per-commune counts as the mirror aggregate, so the
indicators do not depend on where the counts came from; the sites themselves (points, status,
surface) go to the bundle as ``sources/cartofriches_sites.parquet`` for the Fiche's map. **Checked
only against the documented layout and the invented fixture** ``tests/fixtures/sources/
cartofriches_friches_standard.csv``, not against a downloaded national file (this machine is
offline). The CNIG example writes ``POINT(49.2527 3.9815)`` (latitude first) although WKT puts
the longitude first: a point that only makes sense in metropolitan France with its coordinates
swapped is swapped, and a site outside France in both orders is rejected with its ``site_id``.

Variables (tidy, year 2026 = the snapshot): ``friches_sites``, ``friches_sans_projet``,
``friches_avec_projet``, ``friches_reconverties``, ``friches_potentielles``,
``friches_surface_unites_foncieres_ha`` and ``friches_type_<type>`` (:data:`TYPES`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, gazetteer
from planeco_kernel.sources.base import Release

SOURCE_ID = "cartofriches"
YEAR = 2026

RELEASE = Release(
    SOURCE_ID, YEAR, "https://www.data.gouv.fr/fr/datasets/sites-references-dans-cartofriches/",
    "cartofriches_communes.json.gz", mirror_path="cerema/cartofriches_communes.json.gz",
    note="Inventaire Cartofriches, instantané du 23 juillet 2026.",
    extra={"mirror_only": True, "totals": {"communes": 9138, "sites": 27983}},
)

STATUSES = {"friche sans projet": "friches_sans_projet", "friche avec projet": "friches_avec_projet",
            "friche reconvertie": "friches_reconverties", "friche potentielle": "friches_potentielles"}
TYPES = {
    "friche industrielle": "industrielle", "friche agro-industrielle": "agro_industrielle",
    "friche d'habitat": "habitat", "friche commerciale": "commerciale",
    "friche d'équipement public": "equipement_public", "friche hospitalière": "hospitaliere",
    "friche enseignement": "enseignement", "friche cultuelle": "cultuelle",
    "friche ferroviaire": "ferroviaire", "friche portuaire": "portuaire", "friche aéroportuaire": "aeroportuaire",
    "friche logistique": "logistique", "friche carrière ou mine": "carriere_mine", "friche militaire": "militaire",
    "friche loisir tourisme hôtellerie": "loisir_tourisme_hotellerie", "friche touristique": "touristique",
    "mixte": "mixte", "autre": "autre", "inconnu": "inconnu",
}
"""The publisher's type labels → variable suffix (``friches_type_<suffix>``)."""


SITES_RELEASE = Release(
    SOURCE_ID, YEAR,
    # the dated resource path of data.gouv.fr's dataset « Sites référencés dans Cartofriches », as
    # recorded by bpineau/gazetteer (sources/cartofriches/transform.go); data.gouv.fr mints a new
    # path at each republication: pass ``url=`` for a newer export
    "https://static.data.gouv.fr/resources/sites-references-dans-cartofriches/20260429-124852/friches-standard-2026-04-15.csv",
    "friches-standard.csv", mirror_path="cerema/friches-standard.csv", sep=";", encodings=("utf-8-sig", "utf-8"),
    note="Cerema, Cartofriches, liste des sites (standard CNIG Friches).",
    # site names and addresses of the export may carry backslash-escaped quotes (\"), besides the
    # doubled quotes of standard CSV (as read by bpineau/gazetteer); both are read as one quote
    extra={"escapechar": "\\"},
)

SITE_COLUMNS = ["site_id", "site_nom", "site_type", "site_statut", "comm_insee", "unite_fonciere_surface"]
NA_TOKENS = ("", "NA", "NaN", "N/A")
"""Missing values of the CNIG standard."""
UNCOUNTED = {"inconnu", "autre", "sans objet"}
"""CNIG values that the per-commune counts do not split into a status or a type column."""
STATUS_COLOURS = {"friches_sans_projet": "#ce0500", "friches_avec_projet": "#ff9940",
                  "friches_reconverties": "#18753c", "friches_potentielles": "#6a6af4", "autre": "#666666"}
"""Map colours by status (DSFR palette), the legend of the Fiche's brownfield points."""
STATUS_LABELS = {"friches_sans_projet": "friche sans projet", "friches_avec_projet": "friche avec projet",
                 "friches_reconverties": "friche reconvertie", "friches_potentielles": "friche potentielle (non confirmée)",
                 "autre": "statut inconnu"}
_LOWER_TYPES = {k.lower(): k for k in TYPES}


def _point(row: pd.Series) -> tuple[float, float] | None:
    """(longitude, latitude) of a site, or ``None`` without coordinates."""
    import re

    lon, lat = row.get("longitude"), row.get("latitude")
    if pd.notna(lon) and pd.notna(lat) and str(lon) not in NA_TOKENS:
        return float(lon), float(lat)
    wkt = row.get("geompoint")
    if wkt is None or pd.isna(wkt) or str(wkt).strip() in NA_TOKENS:
        return None
    m = re.fullmatch(r"\s*POINT\s*\(\s*(-?[\d.]+)[\s,]+(-?[\d.]+)\s*\)\s*", str(wkt), flags=re.IGNORECASE)
    if m is None:
        raise SchemaError(f"site {row['site_id']}: geompoint {wkt!r} is not a WKT POINT(x y).")
    x, y = float(m.group(1)), float(m.group(2))
    return (y, x) if _metropole(y, x) and not _metropole(x, y) else (x, y)


def _metropole(lon: float, lat: float) -> bool:
    return -5.5 <= lon <= 10.0 and 41.0 <= lat <= 51.5


def _in_france(lon: float, lat: float) -> bool:
    """Metropolitan France or an overseas département (loose boxes)."""
    boxes = [(-5.5, 10.0, 41.0, 51.5), (-61.9, -60.7, 15.8, 16.6), (-61.3, -60.7, 14.3, 15.0),  # Guadeloupe, Martinique
             (-54.7, -51.5, 2.0, 6.0), (55.1, 56.0, -21.5, -20.8), (44.9, 45.4, -13.1, -12.5)]  # Guyane, Réunion, Mayotte
    return any(a <= lon <= b and c <= lat <= d for a, b, c, d in boxes)


def parse_sites(path: Path, rel: Release = SITES_RELEASE) -> pd.DataFrame:
    """Parse and check the official site list (CNIG « Friches » layout, see the module docstring).

    Returns one row per site: ``site_id, site_nom, site_type, site_statut, status, commune_code,
    surface_m2, longitude, latitude`` (``status``: the variable of :data:`STATUSES`, or ``autre``).

    Raises
    ------
    SchemaError
        A required column is missing, a site has no commune code, an unknown type or status, a
        negative surface or a point outside France; the message names the file and the site.
    """
    name = rel.filename
    df = base.read_csv(path, rel, required=SITE_COLUMNS)
    if "geompoint" not in df.columns and not {"longitude", "latitude"} <= set(df.columns):
        raise SchemaError(f"{name}: no site coordinates: expected a geompoint column (WKT) or longitude and latitude.")
    for col in df.columns:
        text = df[col].astype("string").str.strip()
        df[col] = text.where(~text.isin(NA_TOKENS)).astype(object)
    if df["site_id"].isna().any() or df["site_id"].duplicated().any():
        raise SchemaError(f"{name}: site_id missing or duplicated, e.g. "
                          f"{df.loc[df['site_id'].duplicated(), 'site_id'].head(3).tolist()} (primary key of the standard).")
    no_code = df["comm_insee"].isna()
    if no_code.any():
        raise SchemaError(f"{name}: {int(no_code.sum())} site(s) without comm_insee, e.g. {df.loc[no_code, 'site_id'].head(3).tolist()}.")
    df["commune_code"] = base.check_codes(df["comm_insee"], name=name, column="comm_insee")
    types = df["site_type"].fillna("inconnu").str.lower()
    bad = sorted(set(types) - set(_LOWER_TYPES) - UNCOUNTED)
    statuses = df["site_statut"].fillna("inconnu").str.lower()
    bad_status = sorted(set(statuses) - set(STATUSES) - UNCOUNTED)
    if bad or bad_status:
        raise SchemaError(f"{name}: unknown site_type {bad} or site_statut {bad_status} "
                          f"(CNIG Friches values: {sorted(TYPES)}; {sorted(STATUSES)}; or {sorted(UNCOUNTED)}).")
    df["site_type"] = types.map(lambda t: _LOWER_TYPES.get(t, t))
    df["site_statut"] = statuses
    df["status"] = statuses.map(lambda s: STATUSES.get(s, "autre"))
    surface = pd.to_numeric(df["unite_fonciere_surface"], errors="coerce")
    if (surface.isna() & df["unite_fonciere_surface"].notna()).any() or (surface < 0).any():
        raise SchemaError(f"{name}: unite_fonciere_surface must be a number of m² ≥ 0, e.g. "
                          f"{df.loc[surface.isna() & df['unite_fonciere_surface'].notna(), 'unite_fonciere_surface'].head(3).tolist()}.")
    df["surface_m2"] = surface
    points = [_point(r) for _i, r in df.iterrows()]
    df["longitude"] = [p[0] if p else float("nan") for p in points]
    df["latitude"] = [p[1] if p else float("nan") for p in points]
    located = df["longitude"].notna()
    outside = located & ~pd.Series([_in_france(x, y) if pd.notna(x) else True for x, y in zip(df["longitude"], df["latitude"], strict=True)],
                                   index=df.index)
    if outside.any():
        raise SchemaError(f"{name}: site(s) outside France, e.g. {df.loc[outside, 'site_id'].head(3).tolist()}: "
                          "the coordinates are not WGS84 longitude/latitude.")
    return df[["site_id", "site_nom", "site_type", "site_statut", "status", "commune_code", "surface_m2",
               "longitude", "latitude"]].reset_index(drop=True)


def aggregate(sites: pd.DataFrame) -> pd.DataFrame:
    """Per-commune counts from :func:`parse_sites`, in the columns of :func:`parse` (the mirror aggregate).

    A site whose type or status is « inconnu », « autre » or « sans objet » counts in
    ``friches_sites`` but in no type or status column. The surface is the sum of the sites' land
    units (missing surfaces are left out, as in the mirror aggregate).
    """
    g = sites.groupby("commune_code")
    out = pd.DataFrame({"friches_sites": g.size(), "surface_m2": g["surface_m2"].sum(min_count=1)})
    for var in STATUSES.values():
        out[var] = (sites["status"] == var).groupby(sites["commune_code"]).sum()
    for label, suffix in TYPES.items():
        out[f"friches_type_{suffix}"] = (sites["site_type"] == label).groupby(sites["commune_code"]).sum()
    return out.reset_index()


def export_vintage(where: str) -> str:
    """« export du 15 avril 2026 » from a file name or URL ``friches-standard-2026-04-15.csv``, else a plain label."""
    import re

    m = re.search(r"friches-standard-(\d{4})-(\d{2})-(\d{2})", where)
    if m is None:
        return "liste des sites, date d'export non indiquée dans le nom du fichier"
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    y, mo, d = (int(g) for g in m.groups())
    return f"export du {d} {months[mo - 1]} {y}" if 1 <= mo <= 12 else "date d'export illisible"


def load_sites(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The official site list (mirror copy ``cerema/friches-standard.csv``, else the publisher):
    ``(tidy counts per commune, sites)``.

    Raises
    ------
    SourceUnavailableError
        Neither the mirror nor the cache holds the list and data.gouv.fr cannot be reached.
    """
    sites = parse_sites(base.obtain(SITES_RELEASE, mirror=mirror, url=url, cache=cache).path)
    return tidy(aggregate(sites)), sites


def parse(path: Path, rel: Release = RELEASE) -> pd.DataFrame:
    """Parse and check the file; return one row per commune with counts by status and type, surface in m²."""
    name = rel.filename
    rows = gazetteer.commune_map(gazetteer.read_json(path, name=name), name=name)
    records = []
    for code, rec in rows.items():
        if not isinstance(rec, dict) or not {"n", "by_type", "by_status"} <= set(rec):
            raise SchemaError(f"{name}: commune {code}: expected keys n, by_type, by_status, total_surface_m2.")
        bad_type = sorted(set(rec["by_type"]) - set(TYPES))
        bad_status = sorted(set(rec["by_status"]) - set(STATUSES))
        if bad_type or bad_status:
            raise SchemaError(f"{name}: commune {code}: unknown types {bad_type} or statuses {bad_status} "
                              f"(known types: {sorted(TYPES)}; statuses: {sorted(STATUSES)}).")
        n = rec["n"]
        if sum(rec["by_type"].values()) != n or sum(rec["by_status"].values()) != n:
            raise SchemaError(f"{name}: commune {code}: types or statuses do not add up to n = {n}.")
        row = {"commune_code": code, "friches_sites": n, "surface_m2": rec.get("total_surface_m2")}
        row.update({v: rec["by_status"].get(k, 0) for k, v in STATUSES.items()})
        row.update({f"friches_type_{v}": rec["by_type"].get(k, 0) for k, v in TYPES.items()})
        records.append(row)
    df = pd.DataFrame.from_records(records)
    counts = ["friches_sites", *STATUSES.values(), *(f"friches_type_{v}" for v in TYPES.values())]
    df = base.to_numeric(df, [*counts, "surface_m2"], name=name)
    base.check_ranges(df, {**{c: (0, 5_000) for c in counts}, "surface_m2": (0, 1e10)}, name=name)
    totals = rel.extra.get("totals") or {}
    gazetteer.check_published_total(len(df), totals.get("communes"), name=name, what="communes")
    gazetteer.check_published_total(df["friches_sites"].sum(), totals.get("sites"), name=name, what="sites de friches")
    return df


def tidy(df: pd.DataFrame, year: int = YEAR) -> pd.DataFrame:
    variables = {c: (c, "sites") for c in df.columns if c.startswith("friches_")}
    wide = df.assign(friches_surface_unites_foncieres_ha=df["surface_m2"] / 10_000)
    variables["friches_surface_unites_foncieres_ha"] = ("friches_surface_unites_foncieres_ha", "ha")
    long = base.melt(wide, key="commune_code", year=year, variables=variables)
    return base.validate_tidy(long, name=RELEASE.filename)


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    """Read (mirror), check and tidy the Cartofriches counts per commune."""
    return tidy(parse(gazetteer.obtain(RELEASE, mirror=mirror, url=url, cache=cache)))
