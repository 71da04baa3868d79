"""Where planeco reads and writes: data bundle, download cache, offline mirror.

All locations are relocatable by environment variables, never hard-coded:

``PLANECO_DATA_DIR``
    The built data bundle (default: ``data/build`` in the project checkout, else
    ``<user data dir>/planeco/build`` for an installed package).
``PLANECO_CACHE``
    The download cache (default: the user cache dir, e.g. ``~/.cache/planeco``).
``PLANECO_MIRROR``
    A local mirror of official files for machines without internet (the project's CI uses
    ``../shared/data``). Unset means "no mirror".
``PLANECO_OFFLINE``
    ``1`` forbids any network access: only the cache and the mirror are used.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from planeco_kernel.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout root when running from the source tree (holds ``pyproject.toml``)."""


def _in_checkout() -> bool:
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "planeco_kernel").is_dir()


def data_dir() -> Path:
    """The data bundle directory (``PLANECO_DATA_DIR``)."""
    env = os.environ.get("PLANECO_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if _in_checkout():
        return PROJECT_ROOT / "data" / "build"
    return Path(platformdirs.user_data_dir("planeco")) / "build"


def cache_dir() -> Path:
    """The download cache directory (``PLANECO_CACHE``)."""
    env = os.environ.get("PLANECO_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_cache_dir("planeco"))


def mirror_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The offline mirror directory, from the argument or ``PLANECO_MIRROR``; ``None`` if unset.

    Raises
    ------
    ConfigError
        If a mirror is named but is not a directory.
    """
    value = explicit if explicit is not None else os.environ.get("PLANECO_MIRROR")
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(
            f"Le miroir de données « {path} » n'existe pas ou n'est pas un dossier. "
            "Corrigez --mirror / PLANECO_MIRROR, ou retirez-le pour utiliser les sources officielles."
        )
    return path


def offline() -> bool:
    """True when ``PLANECO_OFFLINE`` forbids network access."""
    return os.environ.get("PLANECO_OFFLINE", "").strip().lower() in {"1", "true", "yes", "oui"}


def default_mirror_candidates() -> list[Path]:
    """Mirrors tried when none is configured: the ``shared/data`` folder beside the checkout."""
    return [PROJECT_ROOT.parent / "shared" / "data", PROJECT_ROOT / "shared" / "data"]
