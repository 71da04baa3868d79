"""The data-build step that adds every reachable indicator source to the bundle.

:func:`build_sources` is called by ``planeco data build`` (:mod:`planeco_kernel.bundle.build`):
for each source of :data:`planeco_kernel.sources.catalog.SOURCES` whose file is reachable (the
offline mirror, the download cache, or the publisher's URL), it writes the connector's tidy frame
to ``sources/<source_id>.parquet`` (Filosofi's EPCI file to ``sources/filosofi_epci.parquet``),
then the commune components of the indicators to ``indicators/components.parquet``, and why a source
gives no value for some communes to ``sources/missing_reasons.parquet`` (merged communes, Paris, Lyon
and Marseille: :mod:`planeco_kernel.sources.merged_communes`; cells withheld by statistical secret:
:func:`planeco_kernel.sources.tidy.drop_withheld`). It returns
one manifest entry per source: included ones (``included: True``, with rows, years and origin)
and skipped ones with the reason and how to get them.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from planeco_kernel.bundle.checks import source_checks
from planeco_kernel.bundle.reader import Bundle
from planeco_kernel.errors import ChecksumError, SourceUnavailableError
from planeco_kernel.sources.gazetteer import PublishedTotalError
from planeco_kernel.sources.identity import IdentityError

log = logging.getLogger(__name__)

DPE_TOO_BIG = (
    "l'API de l'ADEME sert les DPE commune par commune (plus de dix millions de certificats) : planeco ne "
    "les télécharge pas pour toute la France à la construction du paquet. Placez l'export CSV du jeu "
    "« dpe03existant » dans le miroir (ademe/dpe03existant.csv), ou chargez les communes voulues avec "
    "planeco_kernel.sources.ademe_dpe.load(communes=[...])."
)


@dataclass
class LoadedSource:
    """Tidy frames of one source (``{"filosofi": …, "filosofi_epci": …}``) and where they came from."""

    frames: dict[str, pd.DataFrame]
    origin: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Other tables written beside the tidy frames (``cartofriches_sites``: one row per site)."""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Official:
    """How the build names a source's official file in the manifest, and what the aggregate lacks."""

    read: str
    """What the official file gives (French, after « <source> : »)."""
    fallback: str
    """What the mirror aggregate gives instead, offline or when the official file cannot be read (French)."""


OFFICIAL = {
    "lovac": Official("fichier officiel par commune (comptes et parc privé)",
                      "taux de l'agrégat du miroir, sans le parc privé"),
    "sitadel_communes": Official("fichier SDES par commune (DIDO, millésime 2026-06)",
                                 "agrégat par commune du miroir (bpineau/gazetteer), sans les communes qui n'ont autorisé aucun logement"),
    "insee_rp_logement": Official("base communale logement 2021 de l'Insee (fichier officiel)",
                                  "agrégat par commune du miroir (bpineau/gazetteer), mêmes comptes arrondis"),
    "filosofi_2021": Official("fichier Filosofi 2021 par commune de l'Insee (FILO2021_DISP_COM)",
                              "agrégat par commune du miroir (republication data.gouv.fr)"),
    "sru": Official("fichier officiel de l'éditeur (data.gouv.fr)", "agrégat du miroir"),
    "catnat": Official("fichier officiel de l'éditeur (GASPAR, catnat_gaspar.csv)", "agrégat du miroir"),
    "anct_programmes": Official("fichiers officiels des programmes (ANCT, DGALN)", "agrégat du miroir"),
}
"""Sources read by :func:`_official_first`: module ``planeco_kernel.sources.<id>`` gives
``OFFICIAL_RELEASE`` and ``load_official(mirror=, …)``; a source of several official files also gives
``official_mirror_files(mirror)`` (the mirror copies found) and ``OFFICIAL_WHERE`` (the publishers)."""

OFFICIAL_FIRST = frozenset({"cartofriches", *OFFICIAL})
"""Sources whose publisher's own file is read first (mirror copy, or the publisher when online); the
mirror's per-commune aggregate is only their fallback, so an online machine without it still builds."""


def _aggregate_or_explain(source_id: str, mirror, why: str):
    """The mirror aggregate of ``source_id``; if it is absent too, one error giving both reasons."""
    from planeco_kernel.sources import catalog

    try:
        return catalog.load(source_id, mirror=mirror)
    except SourceUnavailableError as exc:
        raise SourceUnavailableError(f"{catalog.SOURCES[source_id].title} : {why} ; et agrégat du miroir absent ({exc}).") from exc


def load_source(source_id: str, *, mirror=None, network: bool = True, communes: list[str] | None = None,
                availability: dict | None = None) -> LoadedSource:
    """Load one source's tidy frame(s) from the mirror, the cache or (if ``network``) the publisher.

    Raises
    ------
    SourceUnavailableError
        The source cannot be reached; the message says why (French).
    """
    from planeco_kernel.sources import catalog

    info = (availability or catalog.available(mirror, network=network))[source_id]
    if info["status"] == "unavailable" and not (network and source_id in OFFICIAL_FIRST):
        raise SourceUnavailableError(f"{catalog.SOURCES[source_id].title} : {info['reason']}.")
    origin = f"{info['status']} : {info['location']}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old-vintage warnings: the vintage is recorded in the manifest
        if source_id == "filosofi":
            return LoadedSource(_filosofi(mirror, network), origin)
        if source_id == "cartofriches":
            return _cartofriches(mirror, network, origin)
        if source_id in OFFICIAL:
            return _official_first(source_id, mirror, network, origin)
        if source_id == "ademe_dpe":
            if info["status"] != "mirror":
                raise SourceUnavailableError(DPE_TOO_BIG)
            if communes is None:
                raise SourceUnavailableError("ademe_dpe : la liste des communes est nécessaire (territories.parquet).")
            return LoadedSource({source_id: catalog.load(source_id, communes=communes, mirror=mirror)}, origin)
        return LoadedSource({source_id: catalog.load(source_id, mirror=mirror)}, origin)


def _cartofriches(mirror, network: bool, origin: str) -> LoadedSource:
    """Cartofriches: the official site list (points, for the Fiche's map) when it can be read — a
    mirror copy, the cache, or data.gouv.fr when online — else the mirror's per-commune aggregate."""
    from planeco_kernel import fmt
    from planeco_kernel.sources import base, cartofriches

    rel = cartofriches.SITES_RELEASE
    root = base.resolve_mirror(mirror)
    local = root / rel.mirror_path if root is not None and rel.mirror_path is not None else None
    mirrored = local is not None and local.is_file()
    why = ""
    if network or mirrored:
        try:
            counts, sites = cartofriches.load_sites(mirror=mirror)
        except SourceUnavailableError as exc:
            why = f"liste officielle des sites indisponible ({exc}) : agrégat par commune du miroir"
        else:
            where = f"miroir : {local}" if mirrored else f"éditeur : {rel.url}"
            return LoadedSource({"cartofriches": counts}, where, tables={"cartofriches_sites": sites},
                                notes=[f"cartofriches : {fmt.integer(len(sites))} sites lus dans la liste officielle (points pour la carte)."])
    else:
        why = ("hors ligne : comptes par commune de l'agrégat du miroir, sans les points des sites (la liste "
               "officielle est téléchargée par « planeco data build » en ligne)")
    return LoadedSource({"cartofriches": _aggregate_or_explain("cartofriches", mirror, why)}, origin, notes=[f"cartofriches : {why}."])


def _official_first(source_id: str, mirror, network: bool, origin: str) -> LoadedSource:
    """The publisher's own file (a mirror copy, or the publisher when online), else the mirror's
    per-commune aggregate; the manifest note says which was read."""
    import importlib

    from planeco_kernel.sources import base

    module = importlib.import_module(f"planeco_kernel.sources.{source_id}")
    spec = OFFICIAL[source_id]
    if hasattr(module, "official_mirror_files"):
        mirrored = [str(p) for p in module.official_mirror_files(mirror)]
        where_online = module.OFFICIAL_WHERE
    else:
        rel = module.OFFICIAL_RELEASE
        where_online = rel.url
        root = base.resolve_mirror(mirror)
        local = root / rel.mirror_path if root is not None and rel.mirror_path is not None else None
        mirrored = [str(local)] if local is not None and local.is_file() else []
    if network or mirrored:
        try:
            frame = module.load_official(mirror=mirror)
        except SourceUnavailableError as exc:
            why = f"fichier officiel indisponible ({exc}) : {spec.fallback}"
        else:
            where = f"miroir : {', '.join(mirrored)}" if mirrored else f"éditeur : {where_online}"
            return LoadedSource({source_id: frame}, where, notes=[f"{source_id} : {spec.read}."])
    else:
        why = f"hors ligne : {spec.fallback} (le fichier officiel est lu en ligne)"
    return LoadedSource({source_id: _aggregate_or_explain(source_id, mirror, why)}, origin, notes=[f"{source_id} : {why}."])


def _table_vintage(key: str, origin: str, default: str) -> str:
    if key == "cartofriches_sites":
        from planeco_kernel.sources.cartofriches import export_vintage

        return export_vintage(origin)
    return default


def _filosofi(mirror, network: bool) -> dict[str, pd.DataFrame]:
    """Every Filosofi vintage that can be read: all mirrored ones, plus the latest when online."""
    from planeco_kernel.sources import filosofi

    frames: dict[str, list[pd.DataFrame]] = {"filosofi": [], "filosofi_epci": []}
    errors = []
    for (vintage, level), rel in sorted(filosofi.RELEASES.items()):
        if vintage == filosofi.LATEST_VINTAGE and not network:
            root = filosofi.base.resolve_mirror(mirror)
            if root is None or rel.mirror_path is None or not (root / rel.mirror_path).is_file():
                continue
        try:
            df = filosofi.load(vintage, level=cast(filosofi.Level, level), mirror=mirror)
        except SourceUnavailableError as exc:
            errors.append(str(exc))
            continue
        frames["filosofi" if level == "commune" else "filosofi_epci"].append(df)
    if not frames["filosofi"]:
        raise SourceUnavailableError("Filosofi : aucun millésime lisible. " + " ".join(errors))
    return {k: pd.concat(v, ignore_index=True) for k, v in frames.items() if v}


def _fold_merged(source_id: str, got: LoadedSource, frames: dict[str, pd.DataFrame], history: pd.DataFrame,
                 current: set[str], reasons: list[pd.DataFrame] | None = None) -> list[str]:
    """Rates of merged communes and of Paris, Lyon, Marseille (:mod:`planeco_kernel.sources.merged_communes`):
    replace ``got``'s frame in place, return the manifest notes (computed estimates, reasons when missing)
    and append the per-commune reasons (``missing_reasons`` rows) to ``reasons``."""
    from planeco_kernel.sources import merged_communes

    spec = merged_communes.rules_for(source_id, {**frames, **got.frames})
    if spec is None or source_id not in got.frames:
        return []
    vintage, rules = spec
    folded = merged_communes.fold_rates(got.frames[source_id], history, file_vintage=vintage, current=current, rules=rules)
    got.frames[source_id] = folded.tidy
    if reasons is not None:
        reasons.append(folded.reasons(source_id))
    return folded.notes(source_id)


def _withheld_reasons(source_id: str, got: LoadedSource, current: set[str]) -> pd.DataFrame | None:
    """The cells ``got``'s connector dropped as withheld by the publisher (statistical secret:
    :func:`planeco_kernel.sources.tidy.drop_withheld`), as ``missing_reasons`` rows for the current
    communes (the merged ones get the fold's reason instead); removed from the frames' ``attrs``."""
    from planeco_kernel.sources.tidy import WITHHELD_ATTR, withheld

    rows: list[tuple[str, str, str, str]] = []
    for frame in got.frames.values():
        cells = withheld(frame)
        frame.attrs.pop(WITHHELD_ATTR, None)  # not written into the Parquet file's metadata
        if cells is not None:
            rows += [(source_id, var, code, cells.reason) for code, var in cells.rows if code in current]
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["source", "variable", "commune_code", "reason"], dtype="string")


def write_missing_reasons(bundle: Bundle, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Write the bundle's ``missing_reasons`` table (:data:`planeco_kernel.bundle.schema.MISSING_REASONS`),
    empty when no source left a commune without a value for a known reason; return it. A commune and
    variable with several reasons keeps the first (the fold's, more precise than « secret statistique »)."""
    from planeco_kernel.bundle import schema
    from planeco_kernel.sources.merged_communes import Folded

    empty = Folded(pd.DataFrame(), {}, {}).reasons("")
    df = pd.concat([empty, *parts], ignore_index=True) if parts else empty
    df = df.drop_duplicates(["source", "variable", "commune_code"], keep="first").reset_index(drop=True)
    df = schema.validate(df.astype("string"), schema.MISSING_REASONS, origin="étape des sources")
    path = bundle.path(schema.MISSING_REASONS.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    return df


def territorial_frames(bundle: Bundle, frames: dict[str, pd.DataFrame], status: dict) -> list[dict[str, Any]]:
    """The territorial frames (``level, code, year, variable, value``) of the Écolab series (régions) and
    of the baromètre's national series (France, with their 2030 targets), from the planning tables the
    build has just written: ``sources/ecolab.parquet``, ``sources/sgpe_barometre.parquet`` and
    ``sources/sgpe_barometre_targets.parquet``. Fills ``frames`` and ``status``; returns manifest entries."""
    from planeco_kernel.indicators import components as comp_mod
    from planeco_kernel.sources import catalog, sgpe_barometre

    out_dir = bundle.data_dir
    jobs = [(sgpe_barometre.ECOLAB_SOURCE_ID, "ecolab_series", lambda t: {"ecolab": sgpe_barometre.ecolab_territorial(t)}),
            (sgpe_barometre.SOURCE_ID, "barometre_indicators", lambda t: dict(zip(
                ("sgpe_barometre", "sgpe_barometre_targets"), sgpe_barometre.barometre_territorial(t))))]
    entries: list[dict[str, Any]] = []
    for sid, table, convert in jobs:
        info = catalog.info(sid)
        if not bundle.has(table):
            reason = f"table {table} absente du paquet (source ignorée à l'étape de planification)"
            status[sid] = comp_mod.SourceStatus(False, f"{reason}. {comp_mod.HOW_TO_GET}")
            entries.append({"source": sid, "title": info.title, "included": False, "reason": reason, "fix": comp_mod.HOW_TO_GET})
            continue
        for key, df in convert(bundle.read(table)).items():
            path = bundle.source_path(key)
            df.to_parquet(path, index=False)
            frames[key] = df
            entries.append({"name": key, "source": sid, "title": info.title, "included": True,
                            "file": str(path.relative_to(out_dir)), "rows": len(df),
                            "years": sorted(int(y) for y in df["year"].unique()), "origin": f"paquet de données ({table})",
                            "licence": info.licence, "vintage": info.vintage_text, "coverage": info.coverage})
        status[sid] = comp_mod.SourceStatus(True, "", origin=f"paquet de données ({table})")
    return entries


def build_sources(out_dir: Path, mirror=None, progress: Any = None,
                  results: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Write each reachable source's tidy frame and the indicator components into ``out_dir``.

    Parameters
    ----------
    out_dir
        The bundle directory being built; its ``territories``, ``population`` and
        ``code_history`` tables must already be written.
    mirror
        Offline mirror directory (default ``PLANECO_MIRROR``).
    progress
        The build's reporter (``progress.step(label)`` context manager), or ``None``.
    results
        If given, receives ``checks``: the results of the build-time checks against published
        totals (:func:`planeco_kernel.bundle.checks.source_checks`).

    Raises
    ------
    IdentityError
        A file differs from its declared identity (source registry): the build stops.
    BundleError
        A source does not reproduce its published totals: the build stops.

    Returns
    -------
    list of dict
        Manifest entries: ``{"name", "source", "title", "included", "file", "rows", "years",
        "origin"}`` for included sources; ``{"source", "title", "included": False, "reason",
        "fix"}`` for skipped ones.
    """
    from planeco_kernel import config
    from planeco_kernel.indicators import components as comp_mod
    from planeco_kernel.sources import catalog

    out_dir = Path(out_dir)
    step = progress.step if progress is not None and hasattr(progress, "step") else (lambda label: contextlib.nullcontext())
    entries: list[dict[str, Any]] = []
    frames: dict[str, pd.DataFrame] = {}
    status: dict[str, comp_mod.SourceStatus] = {}
    availability = catalog.available(mirror, network=not config.offline())
    bundle = Bundle(out_dir)
    communes = bundle.read("territories", ["level", "code"])
    communes = communes.loc[communes["level"] == "commune", "code"].astype(str).tolist()
    bundle.source_path("x").parent.mkdir(parents=True, exist_ok=True)
    history = bundle.read("code_history", ["code", "vintage", "type", "current_code"])
    reasons: list[pd.DataFrame] = []
    current = set(communes)
    for sid, info in catalog.SOURCES.items():
        with step(f"Source {info.title}"):
            try:
                got = load_source(sid, mirror=mirror, network=not config.offline(), communes=communes,
                                  availability=availability)
            except (PublishedTotalError, ChecksumError, IdentityError):
                raise  # the file is not the declared release: stop, the previous bundle stays (--accept-edition to read another edition)
            except Exception as exc:  # noqa: BLE001 - one failing source must not stop the build
                reason = str(exc)
                entries.append({"source": sid, "title": info.title, "included": False, "reason": reason,
                                "fix": comp_mod.HOW_TO_GET})
                status[sid] = comp_mod.SourceStatus(False, f"source ignorée à la construction du paquet : {reason} {comp_mod.HOW_TO_GET}")
                continue
        secret = _withheld_reasons(sid, got, current)
        fold_notes = _fold_merged(sid, got, frames, history, current, reasons)
        if secret is not None:
            reasons.append(secret)
        for key, df in got.frames.items():
            path = bundle.source_path(key)
            df.to_parquet(path, index=False)
            frames[key] = df
            entries.append({"name": key, "source": sid, "title": info.title, "included": True,
                            "file": str(path.relative_to(out_dir)), "rows": len(df),
                            "years": sorted(int(y) for y in df["year"].unique()), "origin": got.origin,
                            "licence": info.licence, "vintage": info.vintage_text, "coverage": info.coverage})
            if (fold_notes or got.notes) and key == sid:
                entries[-1]["notes"] = [*got.notes, *fold_notes]
        for key, table in got.tables.items():
            table.to_parquet(bundle.source_path(key), index=False)
            entries.append({"name": key, "source": sid, "title": info.title, "included": True, "table": True,
                            "file": str(bundle.source_path(key).relative_to(out_dir)), "rows": len(table),
                            "years": [], "origin": got.origin, "licence": info.licence,
                            "vintage": _table_vintage(key, got.origin, info.vintage_text), "coverage": info.coverage})
        status[sid] = comp_mod.SourceStatus(True, "", origin=got.origin)
    write_missing_reasons(bundle, reasons)
    with step("Séries régionales et nationales (Écolab, baromètre SGPE)"):
        entries += territorial_frames(bundle, frames, status)
    with step("Composantes des indicateurs"):
        comps = comp_mod.assemble(bundle, frames=frames, status=status)
    with step("Contrôles des sources (totaux publiés)"):
        checked = source_checks(frames, comps, bundle.read("code_history", ["code", "type"]))
    if results is not None:
        results["checks"] = checked
    comps.to_parquet(bundle.components_path)
    for entry in entries:  # unmatched commune codes, with their count, beside their source
        notes = [n for n in comps.notes if n.startswith(f"{entry['source']} : ")]
        if notes and entry.get("included"):
            entry["notes"] = [*entry.get("notes", []), *notes]
    return entries
