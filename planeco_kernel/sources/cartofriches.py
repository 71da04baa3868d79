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
