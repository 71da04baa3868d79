"""``planeco assessment …`` and ``planeco actions …``: a thin layer over :mod:`planeco_kernel.assessment`
and :mod:`planeco_kernel.actions`.

Writing commands commit as the knowledge base's current identity (``JUPYTERHUB_USER`` matched
against the member registry, else the local identity): there is no option to choose it.
Invalid files raise :class:`~planeco_kernel.errors.PlanecoError` (every problem with its line),
which :func:`planeco_kernel.cli.main` prints before exiting with code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from planeco_kernel import fmt

assessment_app = typer.Typer(no_args_is_help=True)
actions_app = typer.Typer(no_args_is_help=True)

KB_OPT = typer.Option(None, "--kb", help="Dossier de la base de connaissances (défaut : PLANECO_KB).")
REF_OPT = typer.Option(None, "--referentiel", help="Référentiel à utiliser (défaut : celui de planeco).")


def _kb(path: Optional[Path]):
    from planeco_kernel.knowledge import open_kb

    return open_kb(path)


@assessment_app.command("check")
def check(
    file: Path = typer.Argument(..., metavar="FICHIER", help="Référentiel YAML à valider."),
    toolbox: Optional[Path] = typer.Option(None, "--toolbox", help="Boîte à outils YAML à valider avec ce référentiel."),
) -> None:
    """Valider un référentiel d'auto-évaluation (et sa boîte à outils) ; chaque erreur donne sa ligne."""
    from planeco_kernel.assessment import load_referentiel, load_toolbox
    from planeco_kernel.assessment.levers import load_levers

    ref = load_referentiel(file)
    n = len(ref.criteria)
    typer.echo(f"Référentiel valide : « {ref.title} » version {ref.version}, {fmt.plural(len(ref.fields), 'champ')}, "
               f"{fmt.plural(n, 'critère')}, {fmt.plural(len(ref.levels), 'niveau', 'niveaux')} de maturité.")
    if toolbox is not None:
        tb = load_toolbox(ref, toolbox, levers=load_levers())
        typer.echo(f"Boîte à outils valide : {fmt.plural(len(tb.actions), 'action')}.")


@assessment_app.command("score")
def score_cmd(
    answers: Path = typer.Argument(..., metavar="REPONSES", help="Fichier de réponses YAML (une auto-évaluation)."),
    referentiel: Optional[Path] = REF_OPT,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Scores par champ et global d'une auto-évaluation, avec la méthode de calcul."""
    from planeco_kernel.assessment import (
        load_referentiel,
        method_text,
        parse_assessment,
        score,
    )
    from planeco_kernel.assessment.yamldoc import DocumentError

    ref = load_referentiel(referentiel)
    try:
        data = answers.read_bytes()
    except OSError as exc:
        raise DocumentError([f"{answers} : fichier illisible ({exc.strerror})."]) from None
    a = parse_assessment(data, ref, where=answers.name)
    s = score(ref, a.answers, a.actor.type, a.actor.size_class)
    if as_json:
        out = {"actor": {"name": a.actor.name, "type": a.actor.type, "size_class": a.actor.size_class},
               "year": a.year, "referentiel": {"id": ref.id, "version": ref.version}, **s.to_dict()}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{a.actor.name} — auto-évaluation {a.year} (référentiel {ref.id} {ref.version})")
    width = max(len(f.title) for f in s.fields)
    for f in s.fields:
        lv = f.level.label if f.level else "non concerné"
        typer.echo(f"  {f.title:<{width}}  {fmt.percent(f.percent, 0, missing='—'):>6}  {lv}")
    typer.echo(f"  {'Global':<{width}}  {fmt.percent(s.percent, 0, missing='—'):>6}  {s.level.label if s.level else ''}")
    typer.echo(f"Réponses : {s.answered} sur {s.total} critères applicables ({fmt.percent(s.completeness, 0)}).")
    typer.echo("Méthode :")
    for line in method_text(ref):
        typer.echo(f"  - {line}")


def render_territory(view) -> str:
    """The territory view as text (anonymity threshold applied by the view itself)."""
    lines = [f"{view.name} ({view.code}) — engagement des acteurs"
             + (f", {view.year}" if view.year else ""),
             f"Structures engagées : {view.actors}"]
    for label, n in view.by_type.items():
        lines.append(f"  {label} : {n}")
    if not view.shown:
        lines.append(view.message)
    else:
        lines.append(f"Score global médian : {fmt.percent(view.overall_median, 0)}")
        lines.append("Répartition des niveaux par champ (nombre de structures) :")
        width = max(len(t) for t in view.field_titles.values())
        lines.append(f"  {'':<{width}}  " + "  ".join(f"{lv[:10]:>10}" for lv in view.levels) + "   médiane")
        for fid, dist in view.distribution.items():
            cells = "  ".join(f"{dist[lv]:>10}" for lv in view.levels)
            lines.append(f"  {view.field_titles[fid]:<{width}}  {cells}   {fmt.percent(view.median_percent.get(fid), 0):>7}")
    if view.trend:
        lines.append("Évolution du score médian par champ :")
        for y, d in view.trend.items():
            lines.append(f"  {y} : " + ", ".join(f"{view.field_titles[k]} {fmt.percent(v, 0)}" for k, v in d.items()))
    if view.top_actions:
        lines.append("Actions les plus choisies :")
        for _aid, title, n in view.top_actions:
            lines.append(f"  {n} × {title}")
    return "\n".join(lines)


@assessment_app.command("territory")
def territory_cmd(
    code: str = typer.Argument(..., metavar="CODE", help="Code INSEE ou SIREN du territoire (ou nom)."),
    year: Optional[int] = typer.Option(None, "--year", help="Année (défaut : la plus récente de chaque structure)."),
    kb: Optional[Path] = KB_OPT,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Vue territoire : structures engagées, maturité par champ, évolution (seuil d'anonymat de 5 structures)."""
    from planeco_kernel.assessment import load_referentiel, load_toolbox, territory_view
    from planeco_kernel.assessment.store import all_assessments
    from planeco_kernel.territory import load_model

    model = load_model()
    t = model.resolve(code).territory
    ref = load_referentiel()
    items, problems = all_assessments(_kb(kb), ref)
    view = territory_view(ref, items, t.code, name=t.name, model=model, year=year, toolbox=load_toolbox(ref))
    if as_json:
        typer.echo(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_territory(view))
    for p in problems:
        typer.secho(f"Fichier ignoré : {p}", err=True, fg=typer.colors.YELLOW)


@actions_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., metavar="FICHIER", help="Inventaire .csv ou .xlsx (voir `planeco actions export`)."),
    indicators: Optional[Path] = typer.Option(None, "--indicateurs", help="CSV des indicateurs (défaut : FICHIER_indicateurs.csv s'il existe)."),
    kb: Optional[Path] = KB_OPT,
) -> None:
    """Importer un inventaire d'actions (tout ou rien : chaque erreur donne sa ligne et sa colonne)."""
    from planeco_kernel.actions import import_table, save, territory_resolver
    from planeco_kernel.assessment.levers import load_levers

    base = _kb(kb)
    sheets = import_table(file, load_levers(), territory_resolver(), indicators=indicators)
    sha = save(base, sheets, f"plan d'actions : import de {file.name} ({fmt.plural(len(sheets), 'action')})")
    if sha is None:
        typer.echo(f"{fmt.plural(len(sheets), 'action lue', 'actions lues')} : aucune modification à enregistrer.")
    else:
        typer.echo(f"{fmt.plural(len(sheets), 'action importée', 'actions importées')} ; commit {sha[:10]}.")


def _selected(kb, territory, lever, status, plan):
    from planeco_kernel.actions import load_all
    from planeco_kernel.actions.schema import STATUSES, choice
    from planeco_kernel.actions.views import filter_sheets
    from planeco_kernel.assessment.levers import load_levers
    from planeco_kernel.assessment.yamldoc import DocumentError

    levers = load_levers()
    if lever and lever not in levers:
        raise DocumentError([f"Levier SGPE inconnu « {lever} » (liste : `planeco actions list --levers`)."])
    st = None
    if status:
        st = choice(status, STATUSES)
        if st is None:
            raise DocumentError([f"Statut inconnu « {status} » (possibles : {', '.join(STATUSES.values())})."])
    sheets, problems = load_all(_kb(kb), levers)
    model = code = None
    if territory:
        from planeco_kernel.territory import load_model

        model = load_model()
        code = model.resolve(territory).territory.code
    return filter_sheets(sheets, territory=code, lever=lever, status=st, plan=plan.upper() if plan else None,
                         model=model), problems, levers


@actions_app.command("export")
def export_cmd(
    file: Path = typer.Argument(..., metavar="FICHIER", help="Fichier .csv (plus FICHIER_indicateurs.csv) ou .xlsx."),
    territory: Optional[str] = typer.Option(None, "--territory", help="Seulement les actions de ce territoire."),
    lever: Optional[str] = typer.Option(None, "--lever", help="Seulement les actions de ce levier SGPE."),
    kb: Optional[Path] = KB_OPT,
) -> None:
    """Exporter l'inventaire d'actions (même format que l'import)."""
    from planeco_kernel.actions import export_table

    sheets, problems, _ = _selected(kb, territory, lever, None, None)
    files = export_table(sheets, file)
    typer.echo(f"{fmt.plural(len(sheets), 'action exportée', 'actions exportées')} : {', '.join(str(f) for f in files)}.")
    for p in problems:
        typer.secho(f"Fichier ignoré : {p}", err=True, fg=typer.colors.YELLOW)


@actions_app.command("list")
def list_cmd(
    territory: Optional[str] = typer.Option(None, "--territory", help="Code INSEE ou SIREN (les territoires inclus comptent)."),
    lever: Optional[str] = typer.Option(None, "--lever", help="Identifiant du levier SGPE (ex. augm_covoit)."),
    status: Optional[str] = typer.Option(None, "--status", help="Statut (à venir, en cours, réalisé…)."),
    plan: Optional[str] = typer.Option(None, "--plan", help="Plan (PCAET, CRTE, PLPDMA…)."),
    levers: bool = typer.Option(False, "--levers", help="Lister les leviers SGPE au lieu des actions."),
    kb: Optional[Path] = KB_OPT,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Lister les actions (filtres combinables) ou les leviers SGPE."""
    if levers:
        from planeco_kernel.assessment.levers import SOURCE_LABEL, load_levers

        all_levers = load_levers()
        if as_json:
            typer.echo(json.dumps([vars(v) for v in all_levers.values()], ensure_ascii=False, indent=2))
            return
        for lv in all_levers.values():
            typer.echo(f"{lv.id:<18} {lv.name} — {lv.sector}" + (f" [{lv.unit_phys}]" if lv.unit_phys else ""))
        typer.echo(f"Source : {SOURCE_LABEL}.")
        return
    from planeco_kernel.actions.schema import STATUSES

    sheets, problems, _ = _selected(kb, territory, lever, status, plan)
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in sheets], ensure_ascii=False, indent=2, default=str))
    elif not sheets:
        typer.echo("Aucune action ne correspond.")
    else:
        for s in sheets:
            dates = f"{s.start:%m/%Y}–{s.end:%m/%Y}" if s.start and s.end else ""
            typer.echo(f"{s.id:<14} {STATUSES.get(s.status, s.status):<10} {s.lever or '—':<14} {s.territory:<10} "
                       f"{dates:<15} {s.title}")
        typer.echo(f"{fmt.plural(len(sheets), 'action')}.")
    for p in problems:
        typer.secho(f"Fichier ignoré : {p}", err=True, fg=typer.colors.YELLOW)
