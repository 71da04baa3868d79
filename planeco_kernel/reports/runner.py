"""``planeco reports run``: produce the reports of many territories, incrementally, in parallel.

:func:`run_reports` plans the batch (resolves territories, computes each report's inputs
hash, skips the unchanged ones), executes the rest on local worker processes (``workers``)
or on a Dask cluster (``scheduler``), and keeps ``OUT/manifest.json`` and ``OUT/index.html``
up to date. One territory's failure never stops the others.

Resuming: finished reports are published atomically with their inputs hash
(``OUT/<level>/<code>/report.json``), so a batch killed at any point (even ``kill -9``) and
started again skips what was finished and redoes only the rest.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from planeco_kernel.errors import ConfigError, PlanecoError
from planeco_kernel.reports import batch
from planeco_kernel.reports.executor import META_FILE, STAGING_DIR, Outcome, Task, execute_task, report_dir

MANIFEST_WRITE_INTERVAL = 2.0
"""Seconds between two rewrites of the manifest while a batch runs (always written at the end)."""


@dataclass
class RunOptions:
    """What ``planeco reports run`` was asked to do (see the CLI for each option)."""

    level: str
    territories: list[str] = field(default_factory=list)
    within: str | None = None
    all: bool = False
    template: str = "diagnostic_territoire"
    workers: int = 1
    scheduler: str | None = None
    out: Path = Path("rapports")
    force: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)
    pdf: bool = False
    progress: bool = True
    timeout: int = 600
    keep_kernels: bool = False
    """With ``workers=1``: keep this process's kernel factory for later batches (notebook sessions, tests)."""


@dataclass
class BatchResult:
    """Outcome of a batch: one :class:`Outcome` per territory, and where the manifest and index are."""

    outcomes: list[Outcome]
    manifest: Path
    index: Path
    seconds: float

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


def _targets(opts: RunOptions, model) -> tuple[list[Any], list[Outcome]]:
    """Territories to report on, and failed outcomes for the codes that do not exist."""
    from planeco_kernel.territory import codes as tcodes

    level = tcodes.parse_level(opts.level)
    if level is None:
        raise ConfigError("Précisez le niveau des rapports : --level commune, epci, scot, departement, region ou france.")
    found: dict[str, Any] = {}
    failed: list[Outcome] = []
    for q in opts.territories:
        try:
            t = model.resolve(q, level=level).territory
            found.setdefault(t.code, t)
        except PlanecoError as exc:
            failed.append(Outcome(code=str(q), level=level, name=str(q), status="failed",
                                  error=str(exc)))
    if opts.within:
        parent = model.resolve(opts.within).territory
        members = parent.members(level)
        if not members:
            raise ConfigError(f"{parent.label()} ne contient aucun territoire de niveau « {level} » : "
                              "vérifiez --within et --level.")
        for t in members:
            found.setdefault(t.code, t)
    if opts.all:
        for t in model:
            if t.level == level:
                found.setdefault(t.code, t)
    if not (opts.territories or opts.within or opts.all):
        raise ConfigError("Aucun territoire demandé : précisez --territory CODE (plusieurs fois si besoin), "
                          "--within CODE ou --all.")
    return [found[c] for c in sorted(found)], failed


def plan(opts: RunOptions) -> tuple[list[Task], list[Outcome], dict[str, Any]]:
    """Tasks to execute, outcomes already known (skipped, unknown territories), batch header."""
    import json

    from planeco_kernel import __version__, config
    from planeco_kernel.reports import stamp, templates
    from planeco_kernel.territory import load_model

    path = templates.template_path(opts.template)
    templates.check_template(path, tuple(opts.parameters))
    tpl_sha = stamp.file_sha256(path)
    manifest = stamp.read_manifest()
    data_fp = stamp.data_fingerprint(manifest)
    model = load_model()
    targets, known = _targets(opts, model)
    out = Path(opts.out).resolve()
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    header = {"format": 1, "planeco_version": __version__, "template": path.stem, "template_sha256": tpl_sha,
              "data_dir": str(config.data_dir()), "data_fingerprint": data_fp, "run_id": run_id}
    tasks: list[Task] = []
    for t in targets:
        params = {"territory": t.code, "level": t.level, **opts.parameters}
        h = stamp.inputs_hash(tpl_sha, params, data_fp, __version__)
        final = report_dir(out, t.level, t.code)
        if not opts.force and (final / META_FILE).is_file():
            try:
                meta = json.loads((final / META_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            if meta.get("inputs_hash") == h and meta.get("status") == "ok":
                known.append(Outcome(code=t.code, level=t.level, name=t.name, status="skipped", inputs_hash=h,
                                     files=meta.get("files", []), finished_at=meta.get("finished_at", "")))
                continue
        tasks.append(Task(level=t.level, code=t.code, name=t.name, template_path=str(path), template_name=path.stem,
                          parameters=params, out_dir=str(out), inputs_hash=h, pdf=opts.pdf, timeout=opts.timeout,
                          data_dir=str(config.data_dir()),
                          stamp={"template": path.stem, "template_sha256": tpl_sha, "data_fingerprint": data_fp,
                                 "planeco_version": __version__, "run_id": run_id}))
    return tasks, known, header


# -- executors --------------------------------------------------------------------------------------
def _watch_parent(parent: int) -> None:
    """In a worker process: exit (killing its kernels) as soon as the runner is gone (kill -9 included)."""
    import threading

    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                from planeco_kernel.reports.executor import close_pool

                try:
                    close_pool()
                finally:
                    os._exit(1)

    threading.Thread(target=loop, daemon=True, name="planeco-parent-watch").start()


def _worker_init(parent: int, env: dict[str, str]) -> None:
    os.environ.update(env)
    _watch_parent(parent)
    from planeco_kernel.reports.executor import kernel_pool

    kernel_pool()  # start the kernel factory (its own process) now, and meanwhile import the rest
    import papermill  # noqa: F401

    from planeco_kernel.reports import export

    export._exporter()


def _run_local(tasks: list[Task], workers: int, keep_kernels: bool = False) -> Iterable[dict[str, Any]]:
    if workers <= 1:
        from planeco_kernel.reports.executor import close_pool

        try:
            for t in tasks:
                yield execute_task(t)
        finally:
            if not keep_kernels:
                close_pool()
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    env = {k: v for k, v in os.environ.items() if k.startswith(("PLANECO_", "PYTHONPATH"))}
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                             initargs=(os.getpid(), env)) as ex:
        futures = {ex.submit(execute_task, asdict(t)): t for t in tasks}
        try:
            for fut in as_completed(futures):
                t = futures[fut]
                try:
                    yield fut.result()
                except Exception as exc:  # worker process died: the territory fails, the batch goes on
                    yield Outcome(code=t.code, level=t.level, name=t.name, status="failed", inputs_hash=t.inputs_hash,
                                  error=f"Processus de travail interrompu : {type(exc).__name__} : {exc}").to_dict()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _run_dask(tasks: list[Task], address: str) -> Iterable[dict[str, Any]]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise ConfigError("Exécution sur Dask impossible : installez dask et distributed "
                          "(`pip install \"dask[distributed]\"`).") from exc
    try:
        client = Client(address, timeout="20s")
    except Exception as exc:
        raise ConfigError(f"Impossible de joindre le planificateur Dask « {address} » : {exc}. Vérifiez l'adresse "
                          "(tcp://hôte:8786) et que le cluster est démarré.") from exc
    try:
        keys = [f"planeco-report-{t.level}-{t.code}-{t.inputs_hash[:8]}-{uuid.uuid4().hex[:6]}" for t in tasks]
        futures = client.map(execute_task, [asdict(t) for t in tasks], key=keys, pure=False, retries=1)
        by_key = dict(zip(keys, tasks))
        for fut in as_completed(futures):
            t = by_key[fut.key]
            try:
                yield fut.result()
            except Exception as exc:
                yield Outcome(code=t.code, level=t.level, name=t.name, status="failed", inputs_hash=t.inputs_hash,
                              error=f"Tâche Dask en échec : {type(exc).__name__} : {exc}").to_dict()
    finally:
        client.close()


def _clean_staging(out: Path) -> None:
    """Remove what a killed batch left half-written (never visible as reports)."""
    staging = out / STAGING_DIR
    if staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
    for tmp in out.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def run_reports(opts: RunOptions, on_outcome: Callable[[Outcome], None] | None = None) -> BatchResult:
    """Run a batch of reports; see the module docstring.

    Parameters
    ----------
    opts
        What to run.
    on_outcome
        Called after each territory (for progress display or tests).

    Raises
    ------
    ConfigError
        Bad options (no territory, unknown template, unreachable scheduler, folder in use).
    """
    from planeco_kernel.reports.index import write_index

    started = time.perf_counter()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with batch.BatchLock(out):
        _clean_staging(out)
        tasks, known, header = plan(opts)
        entries = batch.load_entries(out)
        outcomes: list[Outcome] = []

        def record(o: Outcome) -> None:
            outcomes.append(o)
            prev = entries.get((o.level, o.code), {})
            e = o.to_dict()
            if o.status == "failed" and prev.get("status") in ("ok", "skipped"):
                e["files"] = prev.get("files", [])  # the previous report stays published
            entries[(o.level, o.code)] = e
            if on_outcome is not None:
                on_outcome(o)

        for o in known:
            record(o)
        bar = _progress(len(tasks), opts.progress)
        last_write = 0.0
        try:
            if tasks:
                stream = _run_dask(tasks, opts.scheduler) if opts.scheduler else _run_local(tasks, opts.workers, opts.keep_kernels)
                for d in stream:
                    o = Outcome(**d)
                    record(o)
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix_str(_counts(outcomes), refresh=False)
                    if time.perf_counter() - last_write > MANIFEST_WRITE_INTERVAL:
                        batch.write_manifest(out, entries, header)
                        last_write = time.perf_counter()
        finally:
            if bar is not None:
                bar.close()
            manifest = batch.write_manifest(out, entries, header)
            index = write_index(out, list(entries.values()))
    return BatchResult(outcomes=outcomes, manifest=manifest, index=index, seconds=time.perf_counter() - started)


def _counts(outcomes: list[Outcome]) -> str:
    n = {s: sum(o.status == s for o in outcomes) for s in ("ok", "failed", "skipped")}
    return f"ok {n['ok']} · échecs {n['failed']} · inchangés {n['skipped']}"


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="rapport", desc="Rapports", file=sys.stderr, dynamic_ncols=True,
                bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed} écoulé, reste ~{remaining}{postfix}")
