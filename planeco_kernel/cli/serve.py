"""``planeco serve``: the Voilà app gallery."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Attach the ``serve`` command to the root application."""

    @app.command("serve")
    def serve_cmd(
        port: int = typer.Option(8866, "--port", "-p", help="Port d'écoute sur 127.0.0.1."),
        no_browser: bool = typer.Option(False, "--no-browser", help="Ne pas ouvrir le navigateur."),
        apps_dir: Path = typer.Option(None, "--apps-dir", help="Dossier des applications (par défaut : apps/ du dépôt)."),
        pool_size: int = typer.Option(1, "--pool-size", help="Noyaux préchauffés par application (0 : aucun)."),
        cull_idle: int = typer.Option(900, "--cull-idle", help="Arrêter les noyaux inactifs depuis ce nombre de secondes."),
    ) -> None:
        """Servir la galerie d'applications Voilà sur http://127.0.0.1:PORT avec les données embarquées."""
        from planeco_kernel.serve import DEFAULT_APPS_DIR, ServeOptions, serve

        serve(ServeOptions(
            port=port,
            open_browser=not no_browser,
            apps_dir=apps_dir or DEFAULT_APPS_DIR,
            pool_size=pool_size,
            cull_idle_s=cull_idle,
        ))
