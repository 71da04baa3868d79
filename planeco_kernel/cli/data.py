"""``planeco data …`` commands: build and inspect the data bundle (thin over :mod:`planeco_kernel.bundle`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from planeco_kernel import fmt

app = typer.Typer(no_args_is_help=True)


@app.command("build")
def build_cmd(
    mirror: Optional[Path] = typer.Option(None, "--mirror", help="Miroir local des sources officielles (PLANECO_MIRROR)."),
    offline: bool = typer.Option(False, "--offline", help="Aucun accès réseau : cache et miroir seulement."),
    scot_perimeters: Optional[Path] = typer.Option(
        None, "--scot-perimeters",
        help="Dossier avec vos périmètres de SCoT (groupements.csv, groupements_membres.csv) ; "
             "prioritaires sur BANATIC (PLANECO_SCOT_PERIMETERS)."),
    if_needed: bool = typer.Option(False, "--if-needed", help="Ne rien faire si le paquet est complet et à jour."),
    force: bool = typer.Option(False, "--force", help="Reconstruire même si une source optionnelle manque."),
    accept_edition: bool = typer.Option(
        False, "--accept-edition",
        help="Lire un fichier source différent de l'édition déclarée (sha256 du registre des sources) comme une "
             "autre édition, enregistrée dans manifest.json ; sans cette option il est refusé."),
    accept_changes: bool = typer.Option(
        False, "--accept-changes",
        help="Accepter des chiffres clés (territoires, porteurs de SCoT, populations) qui changent au-delà des "
             "tolérances déclarées par rapport au paquet actuel."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Sans affichage de progression."),
) -> None:
    """Construire le paquet de données depuis les sources officielles."""
    from planeco_kernel.bundle import build as b

    opts = b.options_from_env(mirror=mirror, scot_perimeters=scot_perimeters, offline=offline, force=force,
                              accept_editions=accept_edition, accept_changes=accept_changes)
    if if_needed and not force:
        reasons = b.is_current(opts)
        if not reasons:
            typer.echo(f"Paquet de données à jour : {opts.data_dir}")
            return
        typer.echo("Construction nécessaire : " + " ; ".join(reasons), err=True)
    man = b.build(opts, b.Reporter(quiet=quiet))
    typer.echo(f"Paquet de données construit dans {opts.data_dir} en {fmt.number(man['build_seconds'], 1)} s.")
    for s in man["skipped"]:
        typer.secho(f"Source ignorée : {s['source']} — {s['reason']}. {s['fix']}", fg=typer.colors.YELLOW, err=True)


@app.command("subset")
def subset_cmd(
    destination: Path = typer.Argument(..., help="Dossier du paquet réduit (remplacé s'il existe)."),
    departements: str = typer.Option(
        "01,42,59,69,84,86", "--departements",
        help="Codes des départements à garder, séparés par des virgules."),
) -> None:
    """Découper dans le paquet complet un paquet réduit à quelques départements (tests rapides)."""
    from planeco_kernel import config
    from planeco_kernel.bundle.subset import derive_subset

    man = derive_subset(config.data_dir(), destination, [d for d in departements.split(",") if d.strip()])
    sub = man["subset"]
    typer.echo(f"Paquet réduit ({', '.join(sub['departements'])} : {fmt.integer(sub['communes'])} communes) "
               f"écrit dans {Path(destination).resolve()}.")


@app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Sortie JSON (manifeste complet).")) -> None:
    """Afficher l'état du paquet de données : sources, millésimes, licences, âge."""
    from planeco_kernel import config
    from planeco_kernel.bundle import manifest as mf

    d = config.data_dir()
    m = mf.read(d)
    problems = mf.problems(d, scot_perimeters=m.get("scot_perimeters"))
    if as_json:
        typer.echo(json.dumps(m | {"data_dir": str(d), "problems": problems}, ensure_ascii=False, indent=2))
        return
    age = mf.age_seconds(m)
    typer.echo(f"Paquet de données : {d}")
    typer.echo(f"Construit le {m['built_at']} (il y a {_age(age)}) par planeco {m['planeco_version']}, "
               f"en {fmt.number(m['build_seconds'], 1)} s.")
    typer.echo(f"Géographie courante : COG {m['current_cog']} (paquet {m['current_package_version']}).")
    if m.get("subset"):
        sub = m["subset"]
        typer.secho(f"Paquet réduit aux départements {', '.join(sub['departements'])} "
                    f"({fmt.integer(sub['communes'])} communes) : {sub['note']}", fg=typer.colors.YELLOW)
    typer.echo("Sources :")
    for s in m["sources"]:
        label = s.get("file") or (f"version {s['version']}" if s.get("version") else "")
        vint = f", COG {s['vintage']}" if s.get("vintage") else ""
        typer.echo(f"  - {s['name']} {label}{vint} : {s['origin']} — licence {s['licence']}")
    typer.echo("Tables :")
    for name, t in m["tables"].items():
        typer.echo(f"  - {name} : {fmt.integer(t['rows'])} lignes ({t['path']})")
    if m.get("scot"):
        sc = m["scot"]
        typer.echo(f"SCoT : {sc['label']} — {fmt.integer(sc['structures'])} structures, "
                   f"{len(sc['conflicts'])} conflits résolus, "
                   f"{len(sc['unmatched']['epci'])} EPCI et {len(sc['unmatched']['communes'])} communes non rapprochés.")
    for s in m.get("skipped", []):
        typer.secho(f"Source ignorée : {s['source']} — {s['reason']}. {s['fix']}", fg=typer.colors.YELLOW)
    if problems:
        typer.secho("À reconstruire (`planeco data build`) : " + " ; ".join(problems), fg=typer.colors.YELLOW)
    else:
        typer.echo("Paquet complet et à jour.")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} j"
