"""``planeco reports …``: run report batches, list templates, schedule batches.

A thin layer over :mod:`planeco_kernel.reports`; errors are :class:`~planeco_kernel.errors.PlanecoError`
turned into French messages by :func:`planeco_kernel.cli.main`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from planeco_kernel.errors import ConfigError

app = typer.Typer(no_args_is_help=True, help="Rapports par territoire : modèles papermill, lots, planification.")

_LEVEL = "Niveau des territoires : commune, epci, scot, departement, region, france."


def _parse_params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"Paramètre illisible : « {item} ». Écrivez -p nom=valeur (ex. -p vintage=2022).")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except ValueError:
            out[k.strip()] = v
    return out


def _selection_args(level: str, territory: list[str], within: Optional[str], all_: bool, template: str,
                    workers: int, out: Path, params: list[str], pdf: bool) -> list[str]:
    args = ["--level", level]
    for t in territory:
        args += ["--territory", t]
    if within:
        args += ["--within", within]
    if all_:
        args.append("--all")
    args += ["--template", template, "--workers", str(workers), "--out", str(out.resolve())]
    for p in params:
        args += ["-p", p]
    if pdf:
        args.append("--pdf")
    return args


@app.command("run")
def run(
    level: str = typer.Option(..., "--level", "-l", help=_LEVEL),
    territory: list[str] = typer.Option([], "--territory", "-t", help="Code (ou nom) d'un territoire ; répétable."),
    within: Optional[str] = typer.Option(None, "--within", "-w", help="Tous les territoires du niveau dans ce territoire."),
    all_: bool = typer.Option(False, "--all", help="Tous les territoires du niveau."),
    template: str = typer.Option("diagnostic_territoire", "--template", help="Nom du modèle (parameterized/) ou chemin .ipynb."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Processus de travail locaux en parallèle."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Adresse d'un planificateur Dask (tcp://hôte:8786)."),
    out: Path = typer.Option(Path("rapports"), "--out", "-o", help="Dossier de sortie."),
    force: bool = typer.Option(False, "--force", help="Refaire aussi les rapports inchangés."),
    param: list[str] = typer.Option([], "--param", "-p", help="Paramètre du modèle nom=valeur (JSON accepté) ; répétable."),
    pdf: bool = typer.Option(False, "--pdf", help="Exporter aussi en PDF (Chromium sans interface)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Barre de progression."),
    timeout: int = typer.Option(600, "--timeout", help="Durée maximale d'une cellule, en secondes."),
) -> None:
    """Produire les rapports d'un niveau : un dossier par territoire, manifest.json et index.html."""
    from planeco_kernel.reports.runner import RunOptions, run_reports

    if pdf:
        from planeco_kernel.reports.export import pdf_converter

        if pdf_converter() is None:
            raise ConfigError("--pdf demande Chromium (`apt-get install chromium`) : aucun navigateur trouvé.")
    opts = RunOptions(level=level, territories=list(territory), within=within, all=all_, template=template,
                      workers=workers, scheduler=scheduler, out=out, force=force, parameters=_parse_params(param),
                      pdf=pdf, progress=progress, timeout=timeout)
    res = run_reports(opts)
    ok, failed, skipped = res.count("ok"), res.count("failed"), res.count("skipped")
    from planeco_kernel import fmt

    made = fmt.plural(ok, "rapport produit", "rapports produits")
    same = fmt.plural(skipped, "inchangé", "inchangés")
    typer.echo(f"{made}, {same}, {fmt.number(failed)} en échec — {fmt.number(res.seconds, 1)} s.")
    for o in res.outcomes:
        if o.status == "failed":
            typer.secho(f"  échec {o.level}:{o.code} ({o.name}) : {o.error}", err=True, fg=typer.colors.RED)
    typer.echo(f"Index : {res.index}\nManifeste : {res.manifest}")
    if failed:
        raise typer.Exit(1)


@app.command("templates")
def templates_cmd() -> None:
    """Lister les modèles de rapport et leurs paramètres."""
    from planeco_kernel.reports import templates

    for name in templates.list_templates():
        params = templates.declared_parameters(templates.template_path(name))
        typer.echo(f"{name}")
        for p, info in params.items():
            typer.echo(f"  {p} = {info.get('default')}  {info.get('help') or ''}".rstrip())


@app.command("schedule")
def schedule(
    at: str = typer.Option(..., "--at", help="Quand : « lundi 06:00 », « tous les jours 22h30 »…"),
    level: str = typer.Option(..., "--level", "-l", help=_LEVEL),
    territory: list[str] = typer.Option([], "--territory", "-t", help="Code d'un territoire ; répétable."),
    within: Optional[str] = typer.Option(None, "--within", "-w", help="Tous les territoires du niveau dans ce territoire."),
    all_: bool = typer.Option(False, "--all", help="Tous les territoires du niveau."),
    template: str = typer.Option("diagnostic_territoire", "--template", help="Modèle de rapport."),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Processus de travail locaux."),
    out: Path = typer.Option(Path("rapports"), "--out", "-o", help="Dossier de sortie."),
    param: list[str] = typer.Option([], "--param", "-p", help="Paramètre du modèle nom=valeur ; répétable."),
    pdf: bool = typer.Option(False, "--pdf", help="Exporter aussi en PDF."),
    systemd: bool = typer.Option(False, "--systemd", help="Minuteur systemd (utilisateur) au lieu de cron."),
    install: bool = typer.Option(False, "--install", help="Installer pour l'utilisateur courant."),
    name: Optional[str] = typer.Option(None, "--name", help="Nom de la planification (défaut : niveau-modèle)."),
) -> None:
    """Afficher (et avec --install, installer) une entrée cron ou un minuteur systemd pour un lot."""
    from planeco_kernel.reports import schedule as sch

    if not (territory or within or all_):
        raise ConfigError("Aucun territoire : précisez --territory, --within ou --all.")
    when = sch.parse_when(at)
    name = name or f"{level}-{Path(template).stem}"
    command = sch.run_command(_selection_args(level, territory, within, all_, template, workers, out, param, pdf), out)
    if systemd:
        units = sch.systemd_units(when, command, name)
        for fname, text in units.items():
            typer.echo(f"# ~/.config/systemd/user/{fname}\n{text}")
        if install:
            paths = sch.install_systemd(units)
            typer.echo(f"Installé ({when.describe()}) : {', '.join(str(p) for p in paths)}")
    else:
        line = sch.cron_line(when, command, name)
        typer.echo(line)
        if install:
            sch.install_cron(line, name)
            typer.echo(f"Ajouté à la crontab de l'utilisateur ({when.describe()}).")
