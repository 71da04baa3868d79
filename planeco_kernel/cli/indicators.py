"""``planeco indicators …`` and ``planeco compare`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Attach root-level commands of this module (``planeco compare``) to the root application."""
