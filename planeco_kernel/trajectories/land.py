"""ZAN trajectory of any territory from the best source available, and the children's dashboard.

Where the flows come from (each figure says which):

1. the Cerema commune flows (indicator components), summed over the territory's communes when
   every commune has its reference years;
2. for a région without them, the Écolab regional series (indicator 611) of the SGPE baromètre;
3. for France, the baromètre's national series (sum of its sub-series, from 2017) and, for the
   earlier years of the reference, the sum of the régions' Écolab series (17 régions, Mayotte
   not published) — ``sources_by_year`` tells which year comes from which.

Otherwise the trajectory is « non disponible », saying where the data stops and how to get it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planeco_kernel.trajectories import zan
from planeco_kernel.trajectories.data import (
    BAROMETRE_ENAF_LABEL,
    ECOLAB_ENAF_LABEL,
    PlanningData,
)
from planeco_kernel.trajectories.targets import TargetBook
from planeco_kernel.trajectories.zan import ENVELOPE_PERIOD, REFERENCE_PERIOD, TrajectoryError, apply_garantie

HOW_TO_GET = ("Les flux communaux de consommation d'espaces (Cerema, fichiers fonciers) s'ajoutent au paquet "
              "avec `planeco data build` sur une machine connectée à internet (ou un miroir contenant le fichier "
              "national conso2009_2024_resultats_com.csv).")


def target_book(pdata: PlanningData, scot_crosswalk=None) -> TargetBook:
    t = pdata.tables.get("zan_targets")
    names = {(r.level, r.code): r.name for r in pdata.territories.itertuples(index=False)
             if r.level in ("region", "epci", "scot")}
    return TargetBook(t, names=names, scot_crosswalk=scot_crosswalk)


def flows_for(pdata: PlanningData, level: str, code: str) -> tuple[pd.Series, str, dict[int, str]]:
    """Yearly flows (ha) of a territory, the source label and the source of each year."""
    communes = pdata.communes_of(level, code)["code"]
    f = pdata.commune_flows
    r0, r1 = REFERENCE_PERIOD
    if not f.empty and len(communes):
        sub = f.reindex(communes.tolist())
        ref_cols = [y for y in range(r0, r1 + 1) if y in sub.columns]
        if len(ref_cols) == r1 - r0 + 1 and sub[ref_cols].notna().all().all():
            years = [y for y in sub.columns if sub[y].notna().all()]
            s = sub[years].sum(axis=0)
            src = pdata.commune_flows_source
            return s, src, {int(y): src for y in s.index}
    if level == "region":
        e = pdata.tables.get("ecolab_series")
        if e is not None:
            d = e[(e["indicator_id"] == "611") & (e["region_code"] == code)].dropna(subset=["value"])
            if not d.empty:
                s = d.groupby("year")["value"].sum().astype("float64")
                return s, ECOLAB_ENAF_LABEL, {int(y): ECOLAB_ENAF_LABEL for y in s.index}
    if level == "france":
        e, b = pdata.tables.get("ecolab_series"), pdata.tables.get("barometre_indicators")
        if e is not None and b is not None:
            from planeco_kernel.bundle.planning import national_enaf_ha

            reg = e[e["indicator_id"] == "611"].groupby("year")["value"].sum()
            nat = national_enaf_ha(b)
            years = sorted(set(reg.index) | set(nat.index))
            vals, srcs = {}, {}
            for y in years:
                if y in nat.index:
                    vals[int(y)], srcs[int(y)] = float(nat[y]), BAROMETRE_ENAF_LABEL
                else:
                    vals[int(y)], srcs[int(y)] = float(reg[y]), ECOLAB_ENAF_LABEL + " (somme des régions, hors Mayotte)"
            label = f"{BAROMETRE_ENAF_LABEL} ; avant {int(nat.index.min())} : {ECOLAB_ENAF_LABEL} (somme des régions)"
            return pd.Series(vals), label, srcs
    name = pdata.row(level, code)["name"]
    raise TrajectoryError(
        f"{name} : consommation d'espaces non disponible (flux communaux absents du paquet pour ce territoire). "
        + HOW_TO_GET)


def zan_for(pdata: PlanningData, level: str, code: str, *, book: TargetBook | None = None) -> zan.ZanTrajectory:
    """The ZAN trajectory of one territory, its target inherited (SRADDET → SCoT → PLU(i))."""
    row = pdata.row(level, code)
    book = book or target_book(pdata)
    flows, source, by_year = flows_for(pdata, level, code)
    t = zan.trajectory(flows, book.inherited(row), is_commune=(level == "commune"), code=code, name=str(row["name"]),
                       level=level, source=source, sources_by_year=by_year)
    if level in ("region", "france") and source == pdata.commune_flows_source:
        t.notes.extend(check_against_series(pdata, level, code, flows))
    if level != "commune" and not pdata.commune_flows.empty:
        n = len(pdata.communes_of(level, code))
        if n * zan.FLOOR_HA > t.envelope_ha:
            t.notes.append(f"Les garanties communales ({n} communes × {zan.FLOOR_HA:g} ha) dépassent l'enveloppe.")
    return t


SERIES_TOLERANCE = 0.01
"""Relative gap allowed between Σ communes (Cerema) and the Écolab / baromètre series: 1 %."""


def check_against_series(pdata: PlanningData, level: str, code: str, flows: pd.Series) -> list[str]:
    """When commune flows give a région's (or France's) series, compare it with the Écolab / baromètre one.

    Returns French notes: one per year where the gap exceeds :data:`SERIES_TOLERANCE`, or one saying
    the check passed.
    """
    from planeco_kernel.bundle.planning import national_enaf_ha

    if level == "region":
        e = pdata.tables.get("ecolab_series")
        if e is None:
            return []
        d = e[(e["indicator_id"] == "611") & (e["region_code"] == code)].dropna(subset=["value"])
        ref, label = d.groupby("year")["value"].sum(), "la série Écolab 611"
    else:
        b = pdata.tables.get("barometre_indicators")
        if b is None:
            return []
        ref, label = national_enaf_ha(b), "la série nationale du baromètre"
    years = sorted(set(ref.index) & set(flows.index))
    bad = [(y, float(flows[y]), float(ref[y])) for y in years if ref[y] > 0 and abs(flows[y] - ref[y]) > SERIES_TOLERANCE * ref[y]]
    if not years:
        return []
    if not bad:
        return [f"Contrôle : la somme des communes égale {label} à 1 % près ({years[0]}–{years[-1]})."]
    from planeco_kernel import fmt

    return [f"Contrôle : en {y}, la somme des communes ({fmt.with_unit(v, 'ha', 1)}) diffère de {label} "
            f"({fmt.with_unit(r, 'ha', 1)})." for y, v, r in bad]


def dashboard(pdata: PlanningData, level: str, code: str, *, book: TargetBook | None = None) -> pd.DataFrame:
    """Children's dashboard of a parent: each commune's envelope (garantie applied), use and status.

    Columns: ``code, name, target_pct, target_status, target_origin, reference_ha, envelope_raw_ha,
    envelope_ha, garantie, used_ha, share_used, pace_ha, projection_2030_ha, status``; communes
    without complete flows get status « non disponible ».
    """
    book = book or target_book(pdata)
    ch = pdata.communes_of(level, code).reset_index(drop=True)
    f = pdata.commune_flows
    r0, r1 = REFERENCE_PERIOD
    e0, e1 = ENVELOPE_PERIOD
    if f.empty:
        raise TrajectoryError(f"Tableau de bord des communes non disponible : {HOW_TO_GET}")
    sub = f.reindex(ch["code"].tolist())
    years_with_data = [c for c in sub.columns if sub[c].notna().any()]
    if not years_with_data:
        raise TrajectoryError(f"Tableau de bord des communes non disponible : aucune de ces communes n'a de flux "
                              f"dans le paquet ({pdata.commune_flows_source}). {HOW_TO_GET}")
    last = int(max(years_with_data))
    ref_cols = list(range(r0, r1 + 1))
    have = sub.reindex(columns=ref_cols).notna().all(axis=1).to_numpy()
    ref = sub.reindex(columns=ref_cols).sum(axis=1).to_numpy()
    targets = [book.inherited(r) for _, r in ch.iterrows()]
    red = np.array([t.reduction for t in targets])
    raw = ref * (1 - red)
    env, floored = apply_garantie(raw, True)
    used = sub.reindex(columns=list(range(e0, last + 1))).sum(axis=1).to_numpy() if last >= e0 else np.zeros(len(ch))
    pace = sub.reindex(columns=list(range(last - zan.PACE_YEARS + 1, last + 1))).mean(axis=1).to_numpy()
    proj = used + pace * max(0, e1 - last)
    status = np.where(used > env + 1e-9, "déjà dépassé", np.where(proj > env + 1e-9, "vont dépasser", "en bonne voie"))
    status = np.where(have, status, "non disponible")
    out = pd.DataFrame({
        "code": ch["code"], "name": ch["name"], "target_pct": 100 * red,
        "target_status": [t.status for t in targets], "target_origin": [t.label() for t in targets],
        "reference_ha": ref, "envelope_raw_ha": raw, "envelope_ha": env, "garantie": floored, "used_ha": used,
        "share_used": np.where(env > 0, used / env, np.nan), "pace_ha": pace, "projection_2030_ha": proj,
        "status": status,
    })
    for c in ("reference_ha", "envelope_raw_ha", "envelope_ha", "used_ha", "share_used", "pace_ha", "projection_2030_ha"):
        out.loc[~have, c] = np.nan
    out.attrs["last_year"] = last
    out.attrs["source"] = pdata.commune_flows_source
    return out


def sans_consommer_panel(level: str, code: str, *, cube=None):
    """The ZAN « sans consommer » panel of a territory: brownfields, long-term vacant homes, density.

    Numbers from :func:`planeco_kernel.indicators.zan_levers.zan_levers` (Cartofriches, LOVAC,
    census, Sit@del, Cerema), each with its source, years and method; a lever without data says why.
    Indicative: never subtracted from the legal envelope (the panel says so).

    Returns
    -------
    IPython.display.HTML
        The panel, rendered by the ``zan_levers.html`` template (autoescaped).
    """
    from IPython.display import HTML

    from planeco_kernel import fmt
    from planeco_kernel.apps import templates
    from planeco_kernel.indicators import load_cube
    from planeco_kernel.indicators.zan_levers import zan_levers

    z = zan_levers(cube if cube is not None else load_cube(), code, level)
    rows = []
    for lv in z.levers:
        value = fmt.with_unit(lv.value, lv.unit, None if lv.unit in ("%", "logements/ha") else 0)
        if lv.estimate and lv.value is not None:
            value += " (estimation)"
        rows.append({"label": lv.label, "value": value, "years": lv.years, "source": lv.source,
                     "method": lv.method, "why_missing": lv.why_missing if lv.value is None else ""})
    return HTML(templates.render("zan_levers.html", territory=z.name, rows=rows, caveat=z.caveat))