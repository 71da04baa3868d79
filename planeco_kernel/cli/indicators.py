"""``planeco indicators …`` and ``planeco compare`` commands: a thin layer over
:mod:`planeco_kernel.indicators`. Errors are :class:`~planeco_kernel.errors.PlanecoError`
(French message, exit code 2 through :func:`planeco_kernel.cli.main`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(no_args_is_help=True)

_LEVEL_HELP = "Niveau : commune, epci, scot, departement, region, france."


@app.command("list")
def list_(
    theme: Optional[str] = typer.Option(None, "--theme", "-t", help="Thème (identifiant ou libellé, ex. logement)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (une liste d'objets)."),
) -> None:
    """Lister les indicateurs du catalogue (par thème), avec leur disponibilité dans le paquet de données."""
    from planeco_kernel.errors import BundleError
    from planeco_kernel.indicators.catalogue import load_catalogue
    from planeco_kernel.indicators.cube import load_cube

    cat = load_catalogue()
    items = cat.by_theme(theme)
    try:
        status = load_cube(catalogue=cat).status
    except BundleError as exc:
        status = None
        typer.echo(f"(disponibilité inconnue : {exc})", err=True)

    def avail(ind) -> dict:
        if status is None:
            return {}
        st = status[ind.id]
        return {"available": st.available, "years": list(st.years) if st.available else [],
                "reason": None if st.available else st.reason}

    if as_json:
        typer.echo(json.dumps([{**i.to_dict(), **avail(i)} for i in items], ensure_ascii=False, indent=2))
        return
    current = None
    for ind in sorted(items, key=lambda i: list(cat.themes).index(i.theme)):
        if ind.theme != current:
            current = ind.theme
            typer.echo(f"\n{cat.themes[current]}")
        a = avail(ind)
        mark = "" if not a else (f"  [{', '.join(map(str, a['years']))}]" if a["available"] else "  [non disponible]")
        typer.echo(f"  {ind.id:<52} {ind.label} ({ind.unit or 'sans unité'}){mark}")
    n_ok = sum(1 for i in items if avail(i).get("available"))
    summary = f"{len(items)} indicateurs" + (f", dont {n_ok} disponibles dans ce paquet de données" if status else "")
    typer.echo(f"\n{summary}. Détail et raison d'indisponibilité : planeco indicators show ID")


@app.command("show")
def show(indicator_id: str = typer.Argument(..., metavar="ID", help="Identifiant de l'indicateur."),
         as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Afficher la fiche d'un indicateur : définition, formule, source, agrégation, disponibilité."""
    from planeco_kernel.errors import BundleError
    from planeco_kernel.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    ind = cat.get(indicator_id)
    src = cat.sources[ind.source]
    if as_json:
        typer.echo(json.dumps({**ind.to_dict(), "source_title": src.title, "vintage": src.vintage}, ensure_ascii=False, indent=2))
        return
    polarity = {"higher_better": "plus haut = mieux", "higher_worse": "plus haut = moins bien", "neutral": "neutre"}
    agg = {"sum": "somme", "ratio_of_sums": "rapport des sommes", "population_weighted": "moyenne pondérée par la population",
           "growth_of_sums": "taux de croissance des sommes", "official_only": "non agrégeable : valeur officielle de l'EPCI"}
    lines = [
        f"{ind.label} ({ind.id})",
        f"  Thème       : {cat.themes[ind.theme]}",
        f"  Définition  : {ind.definition}",
        f"  Unité       : {ind.unit or 'sans unité'}",
        f"  Formule     : {ind.formula_text()}",
        f"  Agrégation  : {agg[ind.aggregation]}" + (" (estimation sur les communes renseignées)" if ind.coverage == "estimate" else ""),
        f"  Polarité    : {polarity[ind.polarity]}",
        f"  Source      : {src.title} — {src.vintage}",
        f"                {src.url}",
        f"  Référence   : {ind.reference}",
    ]
    try:
        from planeco_kernel.indicators.cube import load_cube

        st = load_cube(catalogue=cat).status[ind.id]
        lines.append(f"  Disponible  : années {', '.join(map(str, st.years))}" if st.available
                     else f"  Disponible  : non — {st.reason}")
    except BundleError as exc:
        lines.append(f"  Disponible  : inconnu ({exc})")
    typer.echo("\n".join(lines))


@app.command("export")
def export(
    level: str = typer.Option(..., "--level", "-l", help=_LEVEL_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Fichier de sortie : .csv, .xlsx ou .parquet."),
    within: Optional[str] = typer.Option(None, "--within", "-w", help="Code du territoire englobant (ex. 01 ou un SIREN)."),
    year: Optional[int] = typer.Option(None, "--year", "-y", help="Année (par défaut : toutes)."),
) -> None:
    """Exporter les indicateurs d'un niveau (une colonne par indicateur) avec sources et définitions."""
    from planeco_kernel.indicators.cube import load_cube
    from planeco_kernel.indicators.export import FORMATS, export as do_export
    from planeco_kernel.errors import PlanecoError

    if out.suffix.lower() not in FORMATS:
        raise PlanecoError(f"Extension « {out.suffix or '(aucune)'} » non prise en charge pour {out.name} : "
                           "choisissez .csv, .xlsx ou .parquet.")
    path = do_export(load_cube(), level, out, within=within, year=year)
    typer.echo(f"Écrit : {path}")


def compare_command(
    code: str = typer.Argument(..., metavar="CODE", help="Code INSEE, SIREN ou FR."),
    level: Optional[str] = typer.Option(None, "--level", "-l", help=_LEVEL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
    all_: bool = typer.Option(False, "--all", help="Lister aussi les indicateurs indisponibles."),
) -> None:
    """Comparer un territoire à ses territoires parents et à ses pairs, indicateur par indicateur."""
    from planeco_kernel.indicators.comparison import compare

    res = compare(code, level)
    if as_json:
        typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(render(res, show_unavailable=all_))


def render(res, *, show_unavailable: bool = False) -> str:
    """Human-readable comparison (French)."""
    from planeco_kernel import fmt
    from planeco_kernel.indicators.sentences import format_value

    labels = {"epci": "EPCI", "scot": "SCoT", "departement": "Département", "region": "Région", "france": "France",
              "peers": "Pairs"}
    out = [f"{res.name} ({res.level} {res.code})"]
    for g, p in res.parents.items():
        out.append(f"  {labels[g]:<12} {p['name']} ({p['code']})")
    missing = []
    for it in res.indicators:
        if not it.available:
            missing.append(it)
            continue
        out.append(f"\n{it.label} — {it.value_text} ({it.year}{', estimation' if it.estimate else ''})")
        for g in it.groups:
            pv = format_value(g.value, it.unit)
            rank = f"rang {g.rank}/{g.count}" if g.rank else "rang n.d."
            pct = f"centile {fmt.integer(g.percentile)}" if g.percentile is not None else ""
            out.append(f"  {labels[g.group]:<12} {pv:<28} {rank:<16} {pct}")
        if it.evolution:
            out.append(f"  Évolution    {it.evolution['text']}")
        out.append(f"  {it.sentence}")
        out.append(f"  Source : {it.source} — {it.vintage}")
    if missing:
        out.append(f"\n{len(missing)} indicateurs indisponibles pour ce territoire"
                   + (" :" if show_unavailable else " (--all pour le détail)."))
        if show_unavailable:
            for it in missing:
                out.append(f"  {it.id} : {it.reason}")
    return "\n".join(out)


def register(root: typer.Typer) -> None:
    """Attach root-level commands of this module (``planeco compare``) to the root application."""
    root.command("compare", help="Comparer un territoire à ses parents et à ses pairs.")(compare_command)
