"""``planeco indicators …`` and ``planeco compare`` commands: a thin layer over
:mod:`planeco_kernel.indicators`. Errors are :class:`~planeco_kernel.errors.PlanecoError`
(French message, exit code 2 through :func:`planeco_kernel.cli.main`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from planeco_kernel.levels import LEVEL

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
    from planeco_kernel.fmt import plural

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
                "reason": None if st.available else st.reason,
                "how_to_get": None if st.available else official_file_hint(ind.source)}

    if as_json:
        typer.echo(json.dumps([{**i.to_dict(), **avail(i)} for i in items], ensure_ascii=False, indent=2))
        return
    current = None
    for ind in sorted(items, key=lambda i: list(cat.themes).index(i.theme)):
        if ind.theme != current:
            current = ind.theme
            typer.echo(f"\n{cat.themes[current]}")
        a = avail(ind)
        mark = "" if not a else (f"  [{', '.join(map(str, a['years']))}]" if a["available"]
                                 else f"  [non disponible — {a['how_to_get']}]")
        where = "" if ind.available_at("commune") else f"  ({ind.level_note('commune')})"
        typer.echo(f"  {ind.id:<52} {label_with_unit(ind.label, ind.unit)}{where}{mark}")
    n_ok = sum(1 for i in items if avail(i).get("available"))
    summary = plural(len(items), "indicateur") + (
        f", dont {n_ok} disponible{'s' if n_ok >= 2 else ''} dans ce paquet de données" if status else "")
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
           "growth_of_sums": "taux de croissance des sommes", "official_only": "non agrégeable : valeur officielle de l'EPCI",
           "published": "valeurs publiées par territoire (jamais calculées à partir des communes)"}
    lines = [
        f"{ind.label} ({ind.id})",
        f"  Thème       : {cat.themes[ind.theme]}",
        f"  Définition  : {ind.definition}",
        f"  Unité       : {ind.unit or 'sans unité'}",
        f"  Formule     : {ind.formula_text()}",
        f"  Agrégation  : {agg[ind.aggregation]}" + (" (estimation sur les communes renseignées)" if ind.coverage == "estimate" else ""),
        *([f"  Niveaux     : {ind.level_note('commune')} seulement"] if not ind.available_at("commune") else []),
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
    within: Optional[str] = typer.Option(None, "--within", "-w", help="Territoire englobant : 84 (le département), region:84 (la région), un SIREN."),
    year: Optional[int] = typer.Option(None, "--year", "-y", help="Année (par défaut : toutes)."),
) -> None:
    """Exporter les indicateurs d'un niveau (une colonne par indicateur) avec sources et définitions."""
    from planeco_kernel.indicators.cube import load_cube
    from planeco_kernel.indicators.export import FORMATS, export as do_export
    from planeco_kernel.errors import PlanecoError

    from planeco_kernel.levels import LEVELS

    if out.suffix.lower() not in FORMATS:
        raise PlanecoError(f"Extension « {out.suffix or '(aucune)'} » non prise en charge pour {out.name} : "
                           "choisissez .csv, .xlsx ou .parquet.")
    if level not in LEVELS:  # before the cube is loaded (seconds for all France)
        raise PlanecoError(f"Niveau inconnu : « {level} ». Niveaux : {', '.join(LEVELS)}.")
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


def official_file_hint(source_id: str) -> str:
    """Which official file brings an indicator's source, and how planeco gets it (French)."""
    import urllib.parse

    from planeco_kernel.sources.catalog import ALL

    info = ALL.get(source_id)
    if info is None:
        return "source inconnue du registre des sources"
    if info.kind != "indicator":
        return f"{info.label} : relancez `planeco data build`"
    if info.how_to_get:
        return info.how_to_get
    rel = info.release()
    host = urllib.parse.urlparse(rel.url).netloc
    if rel.extra.get("mirror_only"):
        return (f"fichier « {rel.filename} » ({info.publisher_short}) : placez-le dans le miroir "
                f"({rel.mirror_path}) puis lancez `planeco data build`")
    return (f"fichier officiel « {rel.filename} » ({info.publisher_short}, {host}) : `planeco data build` le "
            "télécharge sur une machine ayant accès à internet")


def label_with_unit(label: str, unit: str) -> str:
    """« Part des 15-29 ans (%) »; a unit the label already says is not repeated
    (« Logements pour 1 000 habitants », not « … (pour 1 000 habitants) »)."""
    if not unit:
        return f"{label} (sans unité)"
    if unit.lower() in label.lower():
        return label
    return f"{label} ({unit})"


GROUP_LABELS = {**{k: lv.short[0].upper() + lv.short[1:] for k, lv in LEVEL.items() if k != "commune"},
                "peers": "Comparables"}
"""Row labels of the ``compare`` table (the peer group's full title is in the header)."""

PARENT_TITLES = {**GROUP_LABELS, "peers": "Communes comparables (taille et densité)"}


def render(res, *, show_unavailable: bool = False) -> str:
    """Human-readable comparison (French).

    Each group row reads: the group's own value (or why there is none), the median of the group's
    territories of the same level, the rank that says its direction (« 2e valeur la plus basse sur
    36 ») and the percentile (share of the group's values lower than or equal to the territory's).
    """
    from planeco_kernel import fmt
    from planeco_kernel.fmt import plural
    from planeco_kernel.indicators.sentences import display_name, format_value

    out = [f"{display_name(res.level, res.name)} ({res.level} {res.code})"]
    for g, p in res.parents.items():
        title = PARENT_TITLES[g]
        name = display_name(g, p["name"])
        out.append(f"  {title} : {name}" if g == "peers" else f"  {title:<12} {name} ({p['code']})")
    missing = []
    for it in res.indicators:
        if not it.available:
            missing.append(it)
            continue
        out.append(f"\n{it.label} — {it.value_text} ({it.year}{', estimation' if it.estimate else ''})")
        out.append(f"  {'':<12} {'ensemble du groupe':<30} {'médiane':<24} position")
        for g in it.groups:
            pv = g.value_note or fmt.MISSING if g.value is None else format_value(g.value, it.unit)
            if g.group == "peers":
                pv = "—"
            med = format_value(g.median, it.unit)
            pct = f" (centile {fmt.integer(g.percentile)})" if g.percentile is not None else ""
            out.append(f"  {GROUP_LABELS[g.group]:<12} {pv:<30} {med:<24} {g.rank_text}{pct}")
        if it.evolution:
            out.append(f"  Évolution    {it.evolution['text']}")
        out.append(f"  {it.sentence}")
        out.append(f"  Source : {it.source} — {it.vintage}")
    if missing:
        out.append(f"\n{plural(len(missing), 'indicateur indisponible', 'indicateurs indisponibles')} pour ce territoire"
                   + (" :" if show_unavailable else " (--all pour le détail)."))
        if show_unavailable:
            for it in missing:
                out.append(f"  {it.id} : {it.reason}")
    return "\n".join(out)


def register(root: typer.Typer) -> None:
    """Attach root-level commands of this module (``planeco compare``) to the root application."""
    root.command("compare", help="Comparer un territoire à ses parents et à ses pairs.")(compare_command)
