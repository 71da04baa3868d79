"""``planeco zan …`` and ``planeco cop …``: thin layers over :mod:`planeco_kernel.trajectories`."""

from __future__ import annotations

import json
from typing import Optional

import typer

from planeco_kernel import fmt

app = typer.Typer(no_args_is_help=True)
cop_app = typer.Typer(no_args_is_help=True)


def _resolve(query: str, level: Optional[str] = None):
    from planeco_kernel.territory import load_model

    return load_model().resolve(query, level=level).territory


def _ha(v) -> str:
    return fmt.with_unit(v, "ha", 1)


def render_zan(t) -> str:
    lines = [f"{t.name} ({t.level} {t.code}) — trajectoire ZAN", f"Source : {t.source} ; données jusqu'à {t.last_year}."]
    lines.append(f"Référence 2011–2020 : {_ha(t.reference_ha)}")
    lines.append(f"Objectif de réduction : {t.target.label()}")
    env = f"Enveloppe 2021–2030 : {_ha(t.envelope_ha)}"
    if t.garantie_applied:
        env += f" (garantie communale ; {_ha(t.envelope_raw_ha)} avant plancher)"
    lines.append(env)
    lines.append(f"Consommé depuis 2021 (2021–{t.last_year}) : {_ha(t.used_ha)}, soit {fmt.percent(100 * t.used_share, 0)} de l'enveloppe")
    lines.append(f"Rythme annuel ({t.pace_years[0]}–{t.pace_years[1]}) : {_ha(t.pace_ha_per_year)} par an")
    lines.append(f"Projection 2030 à ce rythme : {_ha(t.projection_2030_ha)} — {t.status}")
    if t.exceeded_year:
        lines.append(f"Enveloppe dépassée en {t.exceeded_year}.")
    elif t.runout_year:
        lines.append(f"À ce rythme, l'enveloppe est épuisée en {t.runout_year}.")
    if t.allowed_pace_ha_per_year is not None:
        eff = f" (effort : {fmt.percent(t.effort_pct, 0)} de moins par an)" if t.effort_pct is not None and t.effort_pct > 0 else ""
        lines.append(f"Rythme permis jusqu'en 2030 : {_ha(t.allowed_pace_ha_per_year)} par an{eff}")
    for d in t.decades:
        lines.append(f"Décennie {d.period[0]}–{d.period[1]} : {_ha(d.envelope_ha)} ({d.rule})")
    lines.append("2050 : zéro artificialisation nette.")
    lines.extend(t.notes)
    return "\n".join(lines)


@app.command("show")
def show(
    query: str = typer.Argument(..., metavar="CODE", help="Code INSEE, SIREN, « niveau:code » ou nom."),
    level: Optional[str] = typer.Option(None, "--level", "-l", help="Niveau (commune, epci, scot, departement, region, france)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Référence, enveloppe et document d'origine, consommé, rythme, projection, décennies jusqu'à 2050."""
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.land import zan_for

    ter = _resolve(query, level)
    t = zan_for(load_planning(), ter.level, ter.code)
    if as_json:
        typer.echo(json.dumps(t.to_dict(), ensure_ascii=False, indent=2, default=_json_default))
        return
    typer.echo(render_zan(t))


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    raise TypeError(type(o))


@app.command("split")
def split_cmd(
    query: str = typer.Argument(..., metavar="CODE", help="SCoT ou EPCI (SIREN, « scot:CODE », nom)."),
    key: list[str] = typer.Option(..., "--key", "-k", help="Clé et poids NOM=POIDS (conso_passee, population, croissance_pop, sobriete, egal)."),
    pool_floors: bool = typer.Option(False, "--pool-floors", help="Mutualiser la garantie communale à l'échelle de l'EPCI."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Répartir l'enveloppe 2021–2030 entre les communes : enveloppes, planchers, contrôle de la somme."""
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.land import zan_for
    from planeco_kernel.trajectories.split import key_values, parse_weights, split_envelope

    ter = _resolve(query)
    if ter.level not in ("scot", "epci"):
        from planeco_kernel.errors import PlanecoError

        raise PlanecoError(f"{ter.name} est un(e) {ter.level} : la répartition se fait pour un SCoT ou un EPCI.")
    pdata = load_planning()
    weights = parse_weights(key)
    t = zan_for(pdata, ter.level, ter.code)
    communes = pdata.communes_of(ter.level, ter.code)
    values = key_values(pdata, communes, list(weights))
    pools = communes.set_index("code")["epci_code"] if pool_floors else None
    r = split_envelope(t.envelope_ha, values, weights, pools=pools, names=communes.set_index("code")["name"])
    if as_json:
        d = r.to_dict()
        d.update({"territory": {"level": ter.level, "code": ter.code, "name": ter.name}, "source": t.source,
                  "target": t.target.label()})
        typer.echo(json.dumps(d, ensure_ascii=False, indent=2, default=_json_default))
        return
    lines = [f"{ter.name} — répartition de l'enveloppe 2021–2030 ({_ha(t.envelope_ha)}, objectif {t.target.label()})",
             "Clés : " + ", ".join(f"{k} × {fmt.number(w, None)}" for k, w in weights.items())
             + (" ; garanties mutualisées par EPCI" if pool_floors else "")]
    for row in r.table.sort_values("envelope_ha", ascending=False).itertuples(index=False):
        flag = " (plancher)" if row.floor_applied else ""
        lines.append(f"  {row.code} {row.name} : {fmt.number(row.envelope_rounded_ha, 2)} ha{flag}")
    sc = r.sum_check
    lines.append(f"Contrôle : Σ communes = {fmt.number(sc['sum_communes_ha'], 2)} ha, enveloppe = "
                 f"{fmt.number(sc['envelope_ha'], 2)} ha — {'exact' if sc['ok'] else 'ÉCART'}")
    lines.extend(r.notes)
    typer.echo("\n".join(lines))
    if not sc["ok"]:
        raise typer.Exit(1)


@cop_app.command("levers")
def levers_cmd(
    region: str = typer.Argument(..., metavar="REGION", help="Code INSEE ou nom de la région."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Chaque levier : secteur, objectif 2030 en ktCO₂e et en unité physique, engagé, écart."""
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.levers import NOTICE, SOURCE_LABEL, coverage, levers_of

    ter = _resolve(region, "region")
    pdata = load_planning()
    levers = levers_of(pdata.table("sgpe_levers"), ter.code)
    cov = coverage(levers, None)
    by = {lv.lever_id: lv for lv in levers}
    rows = []
    for r in cov.itertuples(index=False):
        lv = by[r.lever_id]
        rows.append({"lever_id": lv.lever_id, "lever": lv.name, "sector": lv.sector, "obj_kt": lv.obj_kt,
                     "obj_phys_2030": lv.obj_phys, "unit_phys": lv.unit_phys, "committed_kt": r.committed_kt,
                     "gap_kt": r.gap_kt})
    if as_json:
        typer.echo(json.dumps({"region": {"code": ter.code, "name": ter.name}, "source": SOURCE_LABEL, "notice": NOTICE,
                               "levers": rows}, ensure_ascii=False, indent=2, default=_json_default))
        return
    out = [f"{ter.name} — panorama des leviers 2030 (par rapport à 2019)", f"Source : {SOURCE_LABEL}. {NOTICE}"]
    for r in rows:
        phys = f" ≈ {fmt.number(r['obj_phys_2030'], None)} {r['unit_phys']}" if r["obj_phys_2030"] is not None else ""
        out.append(f"  [{r['sector']}] {r['lever']} : {fmt.number(r['obj_kt'], 0)} ktCO₂e{phys} ; "
                   f"engagé {fmt.number(r['committed_kt'], 0)} ; écart {fmt.number(r['gap_kt'], 0)}")
    typer.echo("\n".join(out))
