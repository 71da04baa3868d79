"""The territorial diagnostic: every figure of the ``diagnostic_territoire`` report, computed once.

:func:`compute` reads only what the territory needs (the territory model's columnar arrays, one
row group of display contours for the area, the member communes' contours for the map) and
returns a :class:`Diagnostic` whose parts the template displays
(:mod:`planeco_kernel.reports.render`). Every number goes through a
:class:`~planeco_kernel.reports.figures.FigureRegister`, which becomes the CSV appendix.

Demography: INSEE *population municipale* by census year, from the COG packages recorded in the
bundle (``population`` table); annual growth rates are compound rates between the first and
the last census year shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planeco_kernel.reports.figures import FigureRegister

if TYPE_CHECKING:
    import pandas as pd

    from planeco_kernel.territory import Territory, TerritoryModel

PEER_PARENT: dict[str, str] = {"commune": "epci", "epci": "departement", "scot": "region",
                               "departement": "region", "region": "france", "france": "france"}
"""Default peer group: territories of the same level within this parent."""

SECTION_KEY = "Chiffres clés"
SECTION_DEMO = "Démographie"
SECTION_LAND = "Occupation du territoire"
SECTION_PARENTS = "Position dans les territoires englobants"
SECTION_PEERS = "Comparaison avec les territoires comparables"
SECTION_MEMBERS = "Communes membres"


@dataclass
class Diagnostic:
    """Everything the diagnostic report shows about one territory."""

    territory: Territory
    vintage: int
    first_year: int
    population: dict[int, int]
    growth: float | None
    area_km2: float | None
    density: float | None
    parents: list[dict[str, Any]]
    peer_level: str
    peers: pd.DataFrame
    members: pd.DataFrame
    sources: list[dict[str, Any]]
    figures: FigureRegister
    pop_source: str
    geo_source: str
    notes: list[str] = field(default_factory=list)
    model: TerritoryModel | None = None
    """The territory model the diagnostic was computed on (peer tables and manifest read from it)."""


def annual_growth(series: dict[int, int], first: int, last: int) -> float | None:
    """Compound annual growth rate in percent between two years of ``series`` (``None`` if undefined)."""
    a, b = series.get(first), series.get(last)
    if not a or b is None or last <= first:
        return None
    return ((b / a) ** (1.0 / (last - first)) - 1.0) * 100.0


def _series(t: Territory, vintage: int | None) -> dict[int, int]:
    pop = t.population
    return {y: v for y, v in sorted(pop.items()) if vintage is None or y <= vintage}


def _areas(level: str, codes: list[str], data_dir) -> dict[str, float]:
    from planeco_kernel import geo

    try:
        df = geo.load_display(level, codes, data_dir) if codes else None
    except Exception:  # no display geometry in this bundle: areas unknown, said in the report
        return {}
    if df is None or df.empty:
        return {}
    return dict(zip(df["code"], df["area_km2"].astype(float)))


def compute(territory: str, level: str | None = None, *, vintage: int | None = None, peer_group: str = "auto",
            model: TerritoryModel | None = None, data_dir=None) -> Diagnostic:
    """Compute the diagnostic of one territory.

    Parameters
    ----------
    territory
        Code (INSEE, SIREN), key ``"level:code"`` or name, as accepted by ``TerritoryModel.resolve``.
    level
        ``commune``, ``epci``, ``scot``, ``departement``, ``region`` or ``france``.
    vintage
        Last census year to use (default: the latest available).
    peer_group
        Level of the parent whose territories of the same level are the peers (``"auto"``:
        :data:`PEER_PARENT`).
    model
        A territory model (default: :func:`~planeco_kernel.territory.load_model`).

    Raises
    ------
    TerritoryNotFoundError
        Unknown territory (the message suggests close codes or names).
    ValueError
        No population figure at or before ``vintage``.
    """
    import pandas as pd

    from planeco_kernel.territory import load_model

    m = model if model is not None else load_model(data_dir) if data_dir is not None else load_model()
    res = m.resolve(str(territory), level=level)
    t = res.territory
    notes = [res.note] if res.note else []
    series = _series(t, vintage)
    if not series:
        if t.population:
            years = ", ".join(str(y) for y in sorted(t.population))
            raise ValueError(f"Aucune population pour {t.label()} au plus tard en {vintage} "
                             f"(années disponibles : {years}). Choisissez un autre millésime (paramètre vintage).")
        flags = ", ".join(sorted(set(t.population_flags.values()) | set(t.flags))) or "aucune donnée"
        raise ValueError(f"Le paquet de données n'a aucune population municipale pour {t.label()} ({flags}) : "
                         "le diagnostic, fondé sur les recensements, ne peut pas être produit pour ce territoire.")
    last, first = max(series), min(series)
    reg = FigureRegister()
    srcs = t.population_sources
    pop_source = srcs.get(last, "population municipale INSEE (COG)")
    geo_source = str((m.manifest.get("geometry") or {}).get("source", "contours non disponibles"))

    # -- key figures and demography -----------------------------------------------------------
    pop_last = reg.add(SECTION_KEY, "Population municipale", t, series[last], "hab", last, pop_source)
    for y, v in series.items():
        reg.add(SECTION_DEMO, f"Population municipale {y}", t, v, "hab", y, srcs.get(y, pop_source))
    growth = annual_growth(series, first, last)
    reg.add(SECTION_KEY, f"Évolution annuelle moyenne {first}-{last}", t, growth, "%", last, pop_source)

    areas = _areas(t.level, [t.code], data_dir or m.data_dir)
    area = areas.get(t.code)
    density = pop_last / area if area else None
    reg.add(SECTION_KEY, "Superficie", t, area, "km²", None, geo_source)
    reg.add(SECTION_KEY, "Densité de population", t, density, "hab/km²", last, pop_source)
    if t.level != "commune":
        reg.add(SECTION_KEY, "Nombre de communes membres", t, t.members_count, "communes", None,
                "territories.parquet (COG)")

    # -- parents --------------------------------------------------------------------------------
    parents: list[dict[str, Any]] = []
    for lvl in t.parents:
        p = t.parent(lvl)
        if p is None:
            continue
        ps = _series(p, vintage)
        pv = ps.get(last)
        share = pop_last / pv * 100 if pv else None
        pg = annual_growth(ps, first, last)
        reg.add(SECTION_PARENTS, f"Population municipale {last}", p, pv, "hab", last, pop_source)
        reg.add(SECTION_PARENTS, f"Part de {t.name} dans la population", p, share, "%", last, pop_source)
        reg.add(SECTION_PARENTS, f"Évolution annuelle moyenne {first}-{last}", p, pg, "%", last, pop_source)
        parents.append({"territory": p, "population": pv, "share": share, "growth": pg})

    # -- peers ----------------------------------------------------------------------------------
    peer_level = PEER_PARENT.get(t.level, "france") if peer_group in (None, "", "auto") else peer_group
    peers = _peers(m, t, peer_level, vintage, first, last)
    if not peers.empty:
        row = peers.loc[peers["code"] == t.code]
        n = len(peers)
        if not row.empty:
            reg.add(SECTION_PEERS, f"Rang par population parmi {n} territoires", t, int(row["rang_population"].iloc[0]),
                    "rang", last, pop_source)
            if row["rang_evolution"].notna().iloc[0]:
                reg.add(SECTION_PEERS, f"Rang par évolution annuelle parmi {n} territoires", t,
                        int(row["rang_evolution"].iloc[0]), "rang", last, pop_source)
        for r in peers.itertuples():
            if r.code == t.code:
                continue
            who = m.get(r.code, level=t.level)
            reg.add(SECTION_PEERS, f"Population municipale {last}", who, r.population, "hab", last, pop_source)
            reg.add(SECTION_PEERS, f"Évolution annuelle moyenne {first}-{last}", who, r.evolution_annuelle, "%", last,
                    pop_source)
        med = peers["evolution_annuelle"].median()
        anchor = t.parent(peer_level) if peer_level != t.level else None
        if anchor is not None:
            reg.add(SECTION_PEERS, "Évolution annuelle médiane des territoires comparables", anchor, med, "%", last,
                    pop_source)

    # -- members ---------------------------------------------------------------------------------
    members = pd.DataFrame(columns=["code", "nom", "population", "evolution_annuelle", "superficie_km2", "densite"])
    if t.level != "commune":
        rows = []
        mem = t.members("commune")
        mareas = _areas("commune", [c.code for c in mem], data_dir or m.data_dir)
        for c in mem:
            cs = _series(c, vintage)
            v = cs.get(last)
            a = mareas.get(c.code)
            rows.append({"code": c.code, "nom": c.name, "population": v, "evolution_annuelle": annual_growth(cs, first, last),
                         "superficie_km2": a, "densite": (v / a) if v is not None and a else None})
        members = pd.DataFrame(rows, columns=members.columns).sort_values("population", ascending=False,
                                                                            na_position="last")
        for c, r in zip(mem, rows):
            reg.add(SECTION_MEMBERS, f"Population municipale {last}", c, r["population"], "hab", last, pop_source)
            reg.add(SECTION_MEMBERS, f"Évolution annuelle moyenne {first}-{last}", c, r["evolution_annuelle"], "%", last,
                    pop_source)
            reg.add(SECTION_MEMBERS, "Superficie", c, r["superficie_km2"], "km²", None, geo_source)
            reg.add(SECTION_MEMBERS, "Densité de population", c, r["densite"], "hab/km²", last, pop_source)

    return Diagnostic(territory=t, vintage=last, first_year=first, population=series, growth=growth, area_km2=area,
                      density=density, parents=parents, peer_level=peer_level, peers=peers, members=members,
                      sources=data_sources(m.manifest), figures=reg, pop_source=pop_source, geo_source=geo_source,
                      notes=notes, model=m)


def _peers(m: TerritoryModel, t: Territory, peer_level: str, vintage: int | None, first: int, last: int) -> pd.DataFrame:
    """Territories of ``t``'s level within the same ``peer_level`` parent, with ranks."""
    import pandas as pd

    if peer_level == "france" or peer_level == t.level:
        pool = [x for x in m.territories(t.level)["code"]]
        anchor_ok = True
    else:
        anchor = t.parent(peer_level)
        anchor_ok = anchor is not None
        pool = [x.code for x in anchor.members(t.level)] if anchor is not None else []
    if not anchor_ok or not pool:
        return pd.DataFrame(columns=["code", "nom", "population", "evolution_annuelle", "rang_population",
                                     "rang_evolution"])
    return peer_table(m, t.level, pool, vintage, first, last)


def peer_table(m: TerritoryModel, level: str, pool: list[str], vintage: int | None, first: int,
               last: int) -> pd.DataFrame:
    """Population, annual growth and ranks (population, growth) of the territories ``pool`` of ``level``."""
    import pandas as pd

    rows = []
    for code in pool:
        x = m.get(code, level=level)
        s = _series(x, vintage)
        rows.append({"code": x.code, "nom": x.name, "population": s.get(last),
                     "evolution_annuelle": annual_growth(s, first, last)})
    df = pd.DataFrame(rows)
    df["rang_population"] = df["population"].rank(ascending=False, method="min")
    df["rang_evolution"] = df["evolution_annuelle"].astype(float).rank(ascending=False, method="min")
    return df.sort_values("rang_population").reset_index(drop=True)


def data_sources(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's sources, one entry per source name and version: title, version, vintage, origin, licence."""
    out, seen = [], set()
    for s in manifest.get("sources", []):
        key = (s.get("name"), s.get("version"))
        if key in seen:
            continue
        seen.add(key)
        out.append({k: s.get(k) for k in ("name", "title", "version", "vintage", "census_year", "origin", "licence")})
    return out


def source_versions(manifest: dict[str, Any]) -> dict[str, str]:
    """``{source name: latest version}`` of the bundle — what "what changed" compares."""
    out: dict[str, str] = {}
    for s in manifest.get("sources", []):
        out[str(s.get("name"))] = str(s.get("version"))
    return out
