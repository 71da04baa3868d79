"""The ``planeco`` command line: a thin layer over the library.

Each command group lives in its own module and registers a Typer sub-application; heavy
imports (pandas, xarray, Voilà) happen inside the commands so that ``planeco --help`` is instant.
"""

from __future__ import annotations

import sys

import typer

from planeco_kernel import __version__
from planeco_kernel.cli import data as _data
from planeco_kernel.cli import engagement as _engagement
from planeco_kernel.cli import indicators as _indicators
from planeco_kernel.cli import kb as _kb
from planeco_kernel.cli import reports as _reports
from planeco_kernel.cli import serve as _serve
from planeco_kernel.cli import territory as _territory
from planeco_kernel.cli import zan as _zan
from planeco_kernel.errors import PlanecoError

app = typer.Typer(
    name="planeco",
    help="planeco — planification écologique territoriale : données, territoires, applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(_data.app, name="data", help="Construire et inspecter le paquet de données.")
app.add_typer(_territory.app, name="territory", help="Chercher et afficher des territoires.")
app.add_typer(_indicators.app, name="indicators", help="Catalogue d'indicateurs, export, comparaisons.")
_indicators.register(app)
app.add_typer(_kb.app, name="kb", help="Base de connaissances : fils de discussion, REX, solutions.")
app.add_typer(_reports.app, name="reports", help="Rapports par territoire : lots papermill, planification.")
_serve.register(app)
app.add_typer(_engagement.assessment_app, name="assessment", help="Auto-évaluation des acteurs : référentiel, scores, vue territoire.")
app.add_typer(_engagement.actions_app, name="actions", help="Inventaire des actions : import, export, liste.")
app.add_typer(_zan.app, name="zan", help="Trajectoires ZAN : enveloppes, répartition entre communes.")
app.add_typer(_zan.cop_app, name="cop", help="COP territoriale : leviers SGPE, engagements.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planeco {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Afficher la version."),
) -> None:
    """planeco — planification écologique territoriale."""


# Typer may vendor click: find its ClickException through a public Typer class, not by importing click.
_CLICK_EXCEPTION: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI, turning planeco errors into clean messages.

    Returns the process exit code: 0 on success; the code of ``typer.Exit(n)`` (a command that
    found problems, e.g. ``kb check`` or a report batch with failures, exits 1); 2 for a planeco
    error or a usage error; 130 when interrupted. With ``standalone_mode=False`` Click *returns*
    the code of ``typer.Exit`` instead of raising it, so the return value is what counts.
    """
    try:
        rc = app(args=argv, standalone_mode=False)
    except PlanecoError as exc:
        typer.secho(f"Erreur : {exc}", err=True, fg=typer.colors.RED)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Interrompu.", err=True)
        return 130
    except _CLICK_EXCEPTION as exc:  # usage errors: unknown command, missing argument, bad option
        exc.show()
        return exc.exit_code
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
