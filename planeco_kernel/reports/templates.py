"""Report templates: where they are, what parameters they declare.

Templates are parameterized notebooks in the project's ``parameterized/`` folder (or in the
folder named by ``PLANECO_TEMPLATES``). A template is named by its file stem
(``diagnostic_territoire``) or given as a path to an ``.ipynb`` file.
"""

from __future__ import annotations

import os
from pathlib import Path

from planeco_kernel import config
from planeco_kernel.errors import ConfigError

DEFAULT_TEMPLATE = "diagnostic_territoire"
RUNNER_PARAMETERS = ("territory", "level", "output_dir", "previous_figures", "previous_sources", "stamp")
"""Parameters that ``planeco reports run`` injects: every template must declare them."""


def templates_dir() -> Path:
    """The templates folder (``PLANECO_TEMPLATES`` or ``parameterized/`` in the checkout)."""
    env = os.environ.get("PLANECO_TEMPLATES")
    return Path(env).expanduser().resolve() if env else config.PROJECT_ROOT / "parameterized"


def list_templates() -> list[str]:
    """Names of the available templates."""
    d = templates_dir()
    return sorted(p.stem for p in d.glob("*.ipynb")) if d.is_dir() else []


def template_path(name: str) -> Path:
    """The notebook of a template given by name or path.

    Raises
    ------
    ConfigError
        Unknown template (the message lists the available ones).
    """
    p = Path(name)
    if p.suffix == ".ipynb" and p.is_file():
        return p.resolve()
    cand = templates_dir() / f"{p.stem if p.suffix == '.ipynb' else name}.ipynb"
    if cand.is_file():
        return cand
    raise ConfigError(f"Modèle de rapport inconnu : « {name} ». Modèles disponibles : "
                      f"{', '.join(list_templates()) or 'aucun'} (dossier {templates_dir()}), "
                      "ou donnez le chemin d'un fichier .ipynb.")


def declared_parameters(path: str | Path) -> dict[str, dict]:
    """The parameters declared in a template's ``parameters`` cell (papermill's inspection)."""
    import papermill as pm

    return pm.inspect_notebook(str(path))


def check_template(path: str | Path, extra: tuple[str, ...] = ()) -> dict[str, dict]:
    """Declared parameters, after checking the runner's ones and ``extra`` are all there.

    Raises
    ------
    ConfigError
        The template has no ``parameters`` cell or lacks a parameter the runner injects.
    """
    declared = declared_parameters(path)
    missing = [p for p in (*RUNNER_PARAMETERS, *extra) if p not in declared]
    if missing:
        raise ConfigError(f"Le modèle {Path(path).name} ne déclare pas les paramètres {', '.join(missing)} : "
                          "ajoutez-les dans sa cellule étiquetée « parameters » (valeurs par défaut).")
    return declared
