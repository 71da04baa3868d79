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

The environment is read into one frozen :class:`Settings` (``Settings.from_env``). A command
that needs other values for a run (``planeco data build --offline``) activates its own
``Settings`` with :func:`using` for the duration of the run: :func:`data_dir`, :func:`cache_dir`
and :func:`offline` then answer from it. Nothing in planeco writes ``os.environ`` mid-run; a
child process (a report's kernel) gets its settings at start or through its own environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from planeco_kernel.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout root when running from the source tree (holds ``pyproject.toml``)."""


def _in_checkout() -> bool:
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "planeco_kernel").is_dir()


@dataclass(frozen=True)
class Settings:
    """Where planeco reads and writes, and whether it may use the network; read once, then passed."""

    data_dir: Path
    cache_dir: Path
    offline: bool

    @classmethod
    def from_env(cls, *, data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
                 offline: bool | None = None) -> Settings:
        """The environment's settings (``PLANECO_*``), with the given values taking precedence (CLI options)."""
        return cls(
            data_dir=Path(data_dir).expanduser().resolve() if data_dir else _env_data_dir(),
            cache_dir=Path(cache_dir).expanduser().resolve() if cache_dir else _env_cache_dir(),
            offline=_env_offline() if offline is None else bool(offline),
        )


_ACTIVE: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("planeco_settings", default=None)


@contextlib.contextmanager
def using(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` the active ones in this thread / task for the block (the environment is untouched)."""
    token = _ACTIVE.set(settings)
    try:
        yield settings
    finally:
        _ACTIVE.reset(token)


def current() -> Settings:
    """The active settings (from :func:`using`), else the environment's."""
    active = _ACTIVE.get()
    return active if active is not None else Settings.from_env()


def data_dir() -> Path:
    """The data bundle directory (active settings, else ``PLANECO_DATA_DIR``)."""
    active = _ACTIVE.get()
    return active.data_dir if active is not None else _env_data_dir()


def _env_data_dir() -> Path:
    env = os.environ.get("PLANECO_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if _in_checkout():
        return PROJECT_ROOT / "data" / "build"
    return Path(platformdirs.user_data_dir("planeco")) / "build"


def cache_dir() -> Path:
    """The download cache directory (active settings, else ``PLANECO_CACHE``)."""
    active = _ACTIVE.get()
    return active.cache_dir if active is not None else _env_cache_dir()


def _env_cache_dir() -> Path:
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
    """True when network access is forbidden (active settings, else ``PLANECO_OFFLINE``)."""
    active = _ACTIVE.get()
    return active.offline if active is not None else _env_offline()


def _env_offline() -> bool:
    return os.environ.get("PLANECO_OFFLINE", "").strip().lower() in {"1", "true", "yes", "oui"}


def default_mirror_candidates() -> list[Path]:
    """Mirrors tried when none is configured: the ``shared/data`` folder beside the checkout."""
    return [PROJECT_ROOT.parent / "shared" / "data", PROJECT_ROOT / "shared" / "data"]
