"""What the trajectories read: the bundle's planning tables, commune land flows, territories.

The planning tables (``sgpe_levers``, ``barometre_indicators``, ``barometre_levers``,
``ecolab_series``, ``zan_targets``) are read through their declared paths in
:mod:`planeco_kernel.bundle.schema`; the commune ENAF flows through the indicator components
(:func:`planeco_kernel.indicators.components.load_components`, component ``conso_naf_ha``);
territories and membership through :class:`planeco_kernel.territory.TerritoryModel`.

:class:`PlanningData` can also be built from frames (tests use small invented ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planeco_kernel import config
from planeco_kernel.errors import BundleError

CEREMA_LABEL = "Cerema, fichiers fonciers (consommation d'espaces NAF par commune)"
ECOLAB_ENAF_LABEL = "Écolab 611 (Cerema, fichiers fonciers), série régionale du baromètre SGPE"
BAROMETRE_ENAF_LABEL = "Baromètre de la planification écologique (SGPE), série nationale (Cerema, fichiers fonciers)"
PLANNING_TABLES = ("sgpe_levers", "barometre_indicators", "barometre_levers", "barometre_commitments", "ecolab_series",
                   "zan_targets", "lyon_flows")
LYON_LABEL = ("Cerema, fichiers fonciers — extrait réel de la Métropole de Lyon (sparte) ; "
              "ailleurs : fichier national du Cerema, ajouté par `planeco data build` en ligne")


@dataclass
class PlanningData:
    """The inputs of every trajectory computation.

    Attributes
    ----------
    territories
        The ``territories`` table (all levels, with parent columns).
    commune_flows
        Commune × year NAF flows in ha (index commune code, integer year columns); NaN = missing.
    commune_flows_source
        Label of the flows' source, shown with every figure computed from them.
    tables
        The planning tables by name (missing ones are absent, with the reason in ``missing``).
    """

    territories: pd.DataFrame
    commune_flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    commune_flows_source: str = CEREMA_LABEL
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            why = self.missing.get(name, "table absente du paquet de données")
            raise BundleError(f"Données « {name} » non disponibles : {why}. Relancez `planeco data build` "
                              "avec le miroir des sources (--mirror / PLANECO_MIRROR).")
        return self.tables[name]

    # ------------------------------------------------------------------ territories
    def row(self, level: str, code: str) -> pd.Series:
        t = self.territories
        hit = t[(t["level"] == level) & (t["code"] == code)]
        if hit.empty:
            raise BundleError(f"Territoire {level} {code} absent du paquet de données.")
        return hit.iloc[0]

    def communes_of(self, level: str, code: str) -> pd.DataFrame:
        """The current communes of a territory (all communes for France)."""
        c = self.territories[self.territories["level"] == "commune"]
        if level == "commune":
            return c[c["code"] == code]
        if level == "france":
            return c
        col = {"epci": "epci_code", "scot": "scot_code", "departement": "departement_code", "region": "region_code"}[level]
        return c[c[col] == code]

    def children_of(self, level: str, code: str, child_level: str) -> pd.DataFrame:
        t = self.territories[self.territories["level"] == child_level]
        if level == "france":
            return t
        col = {"epci": "epci_code", "scot": "scot_code", "departement": "departement_code", "region": "region_code"}[level]
        return t[t[col] == code]


def read_planning_tables(data_dir: Path) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    from planeco_kernel.bundle import schema

    tables, missing = {}, {}
    for name in PLANNING_TABLES:
        path = data_dir / schema.TABLES[name].path
        if path.is_file():
            tables[name] = pd.read_parquet(path)
        else:
            missing[name] = f"{schema.TABLES[name].path} absent du paquet"
    return tables, missing


def commune_flows_from_components(comps) -> pd.DataFrame:
    """Commune × year NAF flows (ha) from the indicator components; empty if the source is absent."""
    arr = comps.values.get("conso_naf_ha")
    if arr is None or not np.isfinite(arr).any():
        return pd.DataFrame()
    df = pd.DataFrame(arr, index=pd.Index(comps.codes, name="commune_code"), columns=[int(y) for y in comps.years])
    df = df.loc[:, df.notna().any(axis=0)]
    return df[df.notna().any(axis=1)]


_CACHE: dict[tuple, PlanningData] = {}


def load_planning(data_dir: str | Path | None = None, *, flows: pd.DataFrame | None = None,
                  flows_source: str | None = None) -> PlanningData:
    """The planning data of a bundle (cached per bundle build stamp).

    Parameters
    ----------
    flows
        Commune flows to use instead of the components' (e.g. a regional observatory's file).
    """
    from planeco_kernel.bundle import manifest as mf

    d = Path(data_dir) if data_dir is not None else config.data_dir()
    man = mf.read(d)
    key = (str(d), man.get("built_at_epoch"), id(flows))
    if flows is None and key in _CACHE:
        return _CACHE[key]
    territories = pd.read_parquet(d / "territories.parquet")
    tables, missing = read_planning_tables(d)
    if (d / "population.parquet").is_file():
        tables["population"] = pd.read_parquet(d / "population.parquet")
    geo = d / "geometry" / "communes.parquet"
    if geo.is_file():
        tables["commune_geometry"] = pd.read_parquet(geo, columns=["code", "area_km2"])
    source = flows_source or CEREMA_LABEL
    comps = None
    if flows is None:
        from planeco_kernel.indicators.components import load_components

        comps = load_components(d)
        flows, source = _default_flows(comps)
        if flows.empty and "lyon_flows" in tables:  # offline: the real Lyon extract stands in for the national file
            flows, source = lyon_flows(tables["lyon_flows"]), LYON_LABEL
        stock = _latest(comps, "logements")
        if stock is not None:
            tables["commune_logements"] = stock
    pdata = PlanningData(territories=territories, commune_flows=flows, commune_flows_source=source,
                         tables=tables, missing=missing, manifest=man)
    if key[2] == id(None):
        _CACHE[key] = pdata
    return pdata


def lyon_flows(table: pd.DataFrame) -> pd.DataFrame:
    """The ``lyon_flows`` table as commune × year NAF flows (ha)."""
    w = table.pivot_table(index="commune_code", columns="year", values="conso_naf_ha")
    w.columns = [int(c) for c in w.columns]
    w.index = w.index.astype(str)
    return w


def _latest(comps, component: str) -> pd.DataFrame | None:
    """The latest year of a component with values, as ``code, <component>`` (None if absent)."""
    arr = comps.values.get(component)
    if arr is None or not np.isfinite(arr).any():
        return None
    j = max(i for i in range(arr.shape[1]) if np.isfinite(arr[:, i]).any())
    df = pd.DataFrame({"code": comps.codes, component: arr[:, j]}).dropna()
    df.attrs["year"] = int(comps.years[j])
    return df


def _default_flows(comps) -> tuple[pd.DataFrame, str]:
    flows = commune_flows_from_components(comps)
    st = comps.sources.get("cerema_conso")
    label = CEREMA_LABEL + (f" — {st.origin}" if st is not None and st.origin else "")
    return flows, label
