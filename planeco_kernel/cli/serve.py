"""``planeco serve``: the Voilà app gallery; ``planeco hub``: the same apps for many people behind JupyterHub."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Attach the ``serve`` and ``hub`` commands to the root application."""

    @app.command("serve")
    def serve_cmd(
        port: int = typer.Option(8866, "--port", "-p", help="Port d'écoute."),
        ip: str = typer.Option("127.0.0.1", "--ip", help="Interface d'écoute ; toute adresse non locale implique --public."),
        public: bool = typer.Option(False, "--public", help="Galerie publique : les visiteurs anonymes lisent, "
                                    "et chaque bouton d'écriture indique comment se connecter."),
        sign_in_url: str = typer.Option("", "--sign-in-url", help="Adresse où se connecter pour écrire (le JupyterHub), "
                                        "affichée en mode public."),
        no_browser: bool = typer.Option(False, "--no-browser", help="Ne pas ouvrir le navigateur."),
        apps_dir: Path = typer.Option(None, "--apps-dir", help="Dossier des applications (par défaut : apps/ du dépôt)."),
        pool_size: int = typer.Option(-1, "--pool-size", help="Noyaux préchauffés par application (0 : aucun ; "
                                      "par défaut 1 si la machine a 8 Go de mémoire disponible, sinon 0)."),
        cull_idle: int = typer.Option(900, "--cull-idle", help="Arrêter les noyaux inactifs depuis ce nombre de secondes."),
        no_kb_init: bool = typer.Option(False, "--no-kb-init", help="En usage local, ne pas créer de base d'échanges "
                                        "s'il n'y en a pas."),
    ) -> None:
        """Servir la galerie d'applications Voilà (par défaut sur http://127.0.0.1:PORT, pour la personne devant la machine)."""
        from planeco_kernel.serve import DEFAULT_APPS_DIR, ServeOptions, available_memory, default_pool_size, serve

        if pool_size == -1:
            pool_size, why = default_pool_size(available_memory())
            typer.echo(f"Préchauffage : {why}.")
        opts = ServeOptions(
            port=port, ip=ip, public=public, sign_in_url=sign_in_url, open_browser=not no_browser,
            apps_dir=apps_dir or DEFAULT_APPS_DIR, pool_size=pool_size, cull_idle_s=cull_idle,
        )
        if opts.mode == "local" and not no_kb_init:
            from planeco_kernel.hub.local_kb import ensure_local_kb, local_admin

            root, created = ensure_local_kb()
            if created:
                who = local_admin()
                typer.echo(f"Base d'échanges locale créée : {root} — administrateur·rice : {who.name} "
                           f"(identité {who.source}, identifiant « {who.id} »).")
        serve(opts)

    @app.command("hub")
    def hub_cmd(
        port: int = typer.Option(8000, "--port", "-p", help="Port public du hub."),
        ip: str = typer.Option("127.0.0.1", "--ip", help="Interface d'écoute du hub (0.0.0.0 pour le réseau)."),
        authenticator: str = typer.Option("native", "--authenticator", help="native (comptes créés sur le hub, validés "
                                          "par un administrateur), oauth (SSO du territoire, voir README), dummy (essais "
                                          "locaux uniquement), ou un nom de classe Python."),
        admin: list[str] = typer.Option([], "--admin", help="Utilisateur du hub administrateur (répétable)."),
    ) -> None:
        """Lancer JupyterHub sur cette machine : galerie et applications pour chaque personne connectée, JupyterLab pour les agents."""
        from planeco_kernel.hub.config import run_hub

        raise typer.Exit(run_hub(ip=ip, port=port, authenticator=authenticator, admins=list(admin)))
