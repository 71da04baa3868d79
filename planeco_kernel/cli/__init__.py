"""The ``planeco`` command line: a thin layer over the library.

Each command group lives in its own module and registers a Typer sub-application; heavy
imports (pandas, xarray, Voilà) happen inside the commands so that ``planeco --help`` is instant,
and :func:`main` imports and prepares only the group a command line names (``python -m
benchmarks cli`` measures ``planeco territory show``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from planeco_kernel import __version__
from planeco_kernel.errors import PlanecoError

# The command groups, in the order of ``planeco --help``: (name, module in cli/, attribute, help).
# A ``None`` name is a module whose ``register(root)`` attaches root-level commands (listed in
# _ROOT_COMMANDS). Modules are imported only when their group is used (see :func:`build_app`).
_GROUPS: tuple[tuple[str | None, str, str, str], ...] = (
    ("data", "data", "app", "Construire et inspecter le paquet de données."),
    ("territory", "territory", "app", "Chercher et afficher des territoires."),
    ("indicators", "indicators", "app", "Catalogue d'indicateurs, export, comparaisons."),
    (None, "indicators", "register", ""),
    ("kb", "kb", "app", "Base de connaissances : fils de discussion, REX, solutions."),
    ("reports", "reports", "app", "Rapports par territoire : lots papermill, planification."),
    (None, "serve", "register", ""),
    ("assessment", "engagement", "assessment_app", "Auto-évaluation des acteurs : référentiel, scores, vue territoire."),
    ("actions", "engagement", "actions_app", "Inventaire des actions : import, export, liste."),
    ("zan", "zan", "app", "Trajectoires ZAN : enveloppes, répartition entre communes."),
    ("cop", "zan", "cop_app", "COP territoriale : leviers SGPE, engagements."),
)
_ROOT_COMMANDS: dict[str, str] = {"compare": "indicators", "serve": "serve", "hub": "serve"}
"""Root-level commands and the module whose ``register`` attaches them."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planeco {__version__}")
        raise typer.Exit()


def build_app(only: str | None = None) -> typer.Typer:
    """The ``planeco`` application: every group, or only the group (or root command) ``only``.

    ``main`` builds only the group a command line names, so that ``planeco territory show``
    neither imports nor prepares the other groups' commands (Typer inspects every registered
    command's signature when it runs).
    """
    root = typer.Typer(
        name="planeco",
        help="planeco — planification écologique territoriale : données, territoires, applications.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @root.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                     help="Afficher la version."),
    ) -> None:
        """planeco — planification écologique territoriale."""

    module_of_root = _ROOT_COMMANDS.get(only) if only is not None else None
    for name, module, attr, help_text in _GROUPS:
        if only is not None and name != only and not (name is None and module == module_of_root):
            continue
        obj = getattr(importlib.import_module(f"planeco_kernel.cli.{module}"), attr)
        if name is None:
            obj(root)
        else:
            root.add_typer(obj, name=name, help=help_text)
    return root


def __getattr__(name: str) -> Any:
    """``planeco_kernel.cli.app``: the whole application, built on first access."""
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _only(argv: list[str]) -> str | None:
    """The group (or root command) the command line names first, if it is one; else ``None``."""
    first = argv[0] if argv else ""
    known = {g for g, *_ in _GROUPS if g is not None} | set(_ROOT_COMMANDS)
    return first if first in known else None


# Typer may vendor click: find its ClickException through a public Typer class, not by importing click.
_CLICK_EXCEPTION: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI, turning planeco errors into clean messages.

    Returns the process exit code: 0 on success; the code of ``typer.Exit(n)`` (a command that
    found problems, e.g. ``kb check`` or a report batch with failures, exits 1); 2 for a planeco
    error or a usage error; 130 when interrupted. With ``standalone_mode=False`` Click *returns*
    the code of ``typer.Exit`` instead of raising it, so the return value is what counts.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    application = build_app(_only(args))
    try:
        rc = application(args=args, standalone_mode=False)
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
