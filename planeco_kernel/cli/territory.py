"""``planeco territory …`` commands: a thin layer over :mod:`planeco_kernel.territory`.

Unknown or ambiguous territories raise :class:`~planeco_kernel.errors.PlanecoError`, which
:func:`planeco_kernel.cli.main` turns into a French message and exit code 2.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Optional

import typer

from planeco_kernel import fmt

if TYPE_CHECKING:
    from planeco_kernel.territory import Resolution, Territory

app = typer.Typer(no_args_is_help=True)

_LEVEL_HELP = "Niveau : commune, epci, scot, departement, region, france."
_DEP_HELP = "Code du département, pour départager des homonymes (ex. 93)."


@app.command("show")
def show(
    query: str = typer.Argument(..., metavar="CODE_OU_NOM", help="Code INSEE, SIREN, clé « niveau:code » ou nom."),
    level: Optional[str] = typer.Option(None, "--level", "-l", help=_LEVEL_HELP),
    departement: Optional[str] = typer.Option(None, "--departement", "-d", help=_DEP_HELP),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (un objet)."),
) -> None:
    """Afficher un territoire : population, appartenances, membres."""
    from planeco_kernel.territory import load_model

    model = load_model(use_index=True)
    res = model.resolve(query, level=level, departement=departement)
    if as_json:
        typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(render_show(res, model.manifest))


@app.command("search")
def search(
    text: str = typer.Argument(..., metavar="TEXTE", help="Nom ou début de nom (accents et casse indifférents)."),
    level: Optional[str] = typer.Option(None, "--level", "-l", help=_LEVEL_HELP),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="Nombre maximal de résultats."),
    departement: Optional[str] = typer.Option(None, "--departement", "-d", help=_DEP_HELP),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (une liste d'objets)."),
) -> None:
    """Chercher des territoires par nom, les plus pertinents d'abord."""
    from planeco_kernel.territory import load_model

    model = load_model(use_index=True)
    found = model.search(text, level=level, limit=limit, departement=departement)
    if as_json:
        typer.echo(json.dumps([_search_item(t) for t in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo(f"Aucun territoire ne correspond à « {text} ». Essayez un nom plus court ou sans --level.")
        return
    typer.echo(render_search(found))


def _search_item(t: Territory) -> dict[str, Any]:
    latest = t.population_latest
    return {
        "key": t.key, "code": t.code, "level": t.level, "name": t.name,
        "departement": t.parents.get("departement") if t.level != "departement" else t.code,
        "population_latest": {"census_year": latest[0], "population": latest[1]} if latest else None,
        "members_count": t.members_count,
    }


def render_search(found: list[Territory]) -> str:
    """One line per territory: code, level, name, département, latest population."""
    lines = []
    width = max(len(t.name) for t in found)
    for t in found:
        dep = t.parents.get("departement", "")
        latest = t.population_latest
        pop = f"{fmt.integer(latest[1])} hab. ({latest[0]})" if latest else "population inconnue"
        lines.append(f"{t.code:<10} {t.level:<12} {t.name:<{width}}  {('dép. ' + dep) if dep else '':<9} {pop}")
    return "\n".join(lines)


def render_show(res: Resolution, manifest: dict[str, Any] | None = None) -> str:
    """The readable French summary printed by ``planeco territory show``."""
    t = res.territory
    out = [f"{t.name} — {t.level_label} {t.code}", f"  Clé : {t.key}"]
    if t.nature:
        out.append(f"  Nature juridique : {t.nature}")
    if res.note:
        out.append(f"  Note : {res.note}")
    pop = t.population
    sources = t.population_sources
    pflags = t.population_flags
    if pop:
        out.append("Population municipale (INSEE, par année de recensement) :")
        for year in sorted(pop, reverse=True):
            extra = f"  [{pflags[year]}]" if year in pflags else ""
            src = f"  — source : {sources[year]}" if year in sources else ""
            out.append(f"  {year} : {fmt.integer(pop[year])} hab.{src}{extra}")
    else:
        out.append("Population municipale : inconnue dans le paquet de données.")
    from planeco_kernel.bundle.schema import LEVEL_LABELS_FR, LEVELS

    parents = t.parents
    belongs: list[str] = []
    for lvl in LEVELS[LEVELS.index(t.level) + 1 :]:
        if lvl == "france":
            continue
        code = parents.get(lvl)
        if code is None:
            if lvl in ("epci", "scot"):
                belongs.append(f"  {LEVEL_LABELS_FR[lvl]} : aucun")
            continue
        p = t.parent(lvl)
        belongs.append(f"  {LEVEL_LABELS_FR[lvl]} : {p.name if p else '?'} ({code})")
    if belongs:
        out.append("Appartient à :")
        out.extend(belongs)
    if t.level != "commune":
        out.append(f"Communes membres : {fmt.integer(t.members_count)}")
        top = _most_populous(t.members("commune"), 5)
        if top:
            out.append("  dont les plus peuplées : " + ", ".join(
                f"{m.name} ({fmt.integer(m.population_latest[1])})" for m in top))
    if t.flags:
        out.append(f"Drapeaux : {', '.join(t.flags)}")
    vintage = _geography_vintage(manifest or {})
    geo = f"géographie du COG {vintage}" if vintage else "géographie courante du paquet de données"
    out.append(f"Source : INSEE, population municipale via @etalab/decoupage-administratif ; {geo}.")
    return "\n".join(out)


def _most_populous(members: list[Territory], n: int) -> list[Territory]:
    with_pop = [m for m in members if m.population_latest]
    return sorted(with_pop, key=lambda m: -m.population_latest[1])[:n]


def _geography_vintage(manifest: dict[str, Any]) -> Any:
    for key in ("current_cog", "cog_vintage", "geography_vintage", "vintage", "cog"):
        value = manifest.get(key)
        if isinstance(value, (int, str)) and value:
            return value
    return None
