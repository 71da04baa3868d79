"""Execute one report: papermill on a pooled kernel, export, publish atomically.

:func:`execute_task` is what runs on a worker (a local process or a Dask worker): it takes a
plain dictionary (:class:`Task` fields) and returns one (:class:`Outcome` fields), so both
executors serialise it trivially. Each worker process keeps one :class:`KernelPool`.

Publication is atomic: everything is written in ``OUT/.staging/<unique>/`` and the folder is
renamed to ``OUT/<level>/<code>/`` only once complete; an older report in its place is moved
aside first and then deleted. A report that fails leaves the previous one in place and keeps
its executed notebook (with the error) in ``OUT/_echecs/<level>/<code>.ipynb``.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from planeco_kernel.reports.figures import APPENDIX_FILE

NOTEBOOK_FILE = "rapport.ipynb"
HTML_FILE = "rapport.html"
PDF_FILE = "rapport.pdf"
META_FILE = "report.json"
STAGING_DIR = ".staging"
FAILED_DIR = "_echecs"
HISTORY_DIR = ".history"

TRANSIENT_RETRIES = 1
"""Extra attempts when the kernel (not the report) failed: died, did not start, stopped answering."""

_POOL = None
_POOL_LOCK = threading.Lock()


@dataclass
class Task:
    """One report to produce (plain data: travels to Dask workers)."""

    level: str
    code: str
    name: str
    template_path: str
    template_name: str
    parameters: dict[str, Any]
    out_dir: str
    inputs_hash: str
    stamp: dict[str, Any] = field(default_factory=dict)
    pdf: bool = False
    timeout: int = 600
    data_dir: str = ""
    """The bundle the runner planned with; set as ``PLANECO_DATA_DIR`` in the report's kernel only (Dask workers too)."""


@dataclass
class Outcome:
    """What happened to one report (one entry of ``OUT/manifest.json``)."""

    code: str
    level: str
    name: str
    status: str  # ok, failed, skipped
    duration: float = 0.0
    inputs_hash: str = ""
    error: str | None = None
    failed_cell: int | None = None
    attempts: int = 0
    files: list[str] = field(default_factory=list)
    finished_at: str = ""
    changes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def report_dir(out_dir: str | Path, level: str, code: str) -> Path:
    """Where the published report of a territory lives: ``OUT/<level>/<code>``."""
    return Path(out_dir) / level / code


def kernel_pool():
    """This process's kernel pool (created on first use; one kernel started ahead)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from planeco_kernel.reports.pool import KernelPool

            _POOL = KernelPool(size=int(os.environ.get("PLANECO_KERNELS_AHEAD", "1")))
        return _POOL


def close_pool() -> None:
    """Stop this process's kernel pool (kernels started ahead are killed)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
            _POOL = None


def _is_transient(exc: BaseException) -> bool:
    from planeco_kernel.reports.pool import KernelStartError

    if isinstance(exc, KernelStartError | TimeoutError):
        return True
    name = type(exc).__name__
    if name in ("DeadKernelError", "ZMQError"):
        return True
    return isinstance(exc, RuntimeError) and "kernel" in str(exc).lower() and "died" in str(exc).lower()


def _cell_error(exc: BaseException) -> tuple[str, int | None]:
    """French message naming the failing cell, from a papermill execution error (any other error: its type)."""
    if not _is_cell_error(exc):
        return f"{type(exc).__name__} : {exc}", None
    idx = exc.cell_index
    src = (exc.source or "").strip().splitlines()
    first = src[0] if src else ""
    where = f"cellule {idx} du notebook exécuté (« {first[:80]} »)" if idx is not None else "une cellule"
    return f"Échec dans la {where} : {exc.ename} : {exc.evalue}", idx


def _is_cell_error(exc: BaseException) -> bool:
    """Whether ``exc`` is papermill's error for a cell that raised (not a kernel or runner failure)."""
    from papermill.exceptions import PapermillExecutionError

    return isinstance(exc, PapermillExecutionError)


def publish(staging: Path, final: Path) -> None:
    """Move a complete report folder into place; the old one (if any) is removed after."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = staging.parent / f"old-{final.name}-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _previous(final: Path) -> tuple[str, dict[str, str]]:
    """Appendix and source versions of the currently published report (for "what changed")."""
    meta = final / META_FILE
    if not meta.is_file() or not (final / APPENDIX_FILE).is_file():
        return "", {}
    try:
        sources = json.loads(meta.read_text(encoding="utf-8")).get("sources", {})
    except (OSError, ValueError):
        sources = {}
    return str(final / APPENDIX_FILE), sources


def _archive(out: Path, task: Task, staging: Path, finished: str) -> None:
    """Keep this run's figures and stamp in the run history (``OUT/.history/<level>/<code>/<time>/``)."""
    dest = out / HISTORY_DIR / task.level / task.code / finished.replace(":", "")
    dest.mkdir(parents=True, exist_ok=True)
    for name in (APPENDIX_FILE, META_FILE):
        if (staging / name).is_file():
            shutil.copy2(staging / name, dest / name)


def _point_kernel_at(kc: Any, data_dir: str, timeout: float = 60) -> None:
    """Set ``PLANECO_DATA_DIR`` in the report's own kernel (a child process used for this report only).

    Kernels are started ahead by the pool, before the task is known, so the bundle cannot be in
    their start-up environment; it is set in the kernel before the notebook's first cell.
    """
    code = f"import os as _os; _os.environ['PLANECO_DATA_DIR'] = {str(data_dir)!r}; del _os"
    msg_id = kc.execute(code, silent=True, store_history=False)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            break
    if reply["content"].get("status") != "ok":
        raise RuntimeError(f"Le noyau du rapport n'a pas accepté le paquet de données « {data_dir} » : "
                           f"{reply['content'].get('evalue', '')}")


def execute_task(task: dict[str, Any] | Task) -> dict[str, Any]:
    """Produce one report; never raises for a report failure (the outcome says what failed).

    Parameters
    ----------
    task
        A :class:`Task` or its dictionary.

    Returns
    -------
    dict
        An :class:`Outcome` as a dictionary.
    """
    import papermill as pm

    from planeco_kernel.reports import engine, export
    from planeco_kernel.reports.changes import compare
    from planeco_kernel.reports.figures import read_csv

    t = task if isinstance(task, Task) else Task(**task)
    # The task's bundle is given to the report's kernel only (see _point_kernel_at); this worker's
    # environment is never changed, so two tasks on different bundles cannot leak into each other.
    out = Path(t.out_dir)
    final = report_dir(out, t.level, t.code)
    staging = out / STAGING_DIR / f"{t.level}-{t.code}-{uuid.uuid4().hex[:10]}"
    staging.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    prev_figures, prev_sources = _previous(final)
    params = dict(t.parameters, output_dir=str(staging), previous_figures=prev_figures,
                  previous_sources=prev_sources, stamp=dict(t.stamp, inputs_hash=t.inputs_hash))
    outcome = Outcome(code=t.code, level=t.level, name=t.name, status="failed", inputs_hash=t.inputs_hash)
    nb_path = staging / NOTEBOOK_FILE
    pool = kernel_pool()
    try:
        nb = None
        for attempt in range(1 + TRANSIENT_RETRIES):
            outcome.attempts = attempt + 1
            kernel = None
            try:
                kernel = pool.acquire()
                km, kc = kernel
                if t.data_dir:
                    _point_kernel_at(kc, t.data_dir)
                # The notebook is saved once at the end (and on failure), not after every cell.
                nb = pm.execute_notebook(t.template_path, str(nb_path), parameters=params, km=km, kc=kc,
                                         engine_name=engine.register(),
                                         progress_bar=False, log_output=False, execution_timeout=t.timeout,
                                         report_mode=False, request_save_on_cell_execute=False)
                break
            except Exception as exc:
                if _is_cell_error(exc) or not _is_transient(exc) or attempt == TRANSIENT_RETRIES:
                    raise
            finally:
                if kernel is not None:
                    pool.release(kernel)
        assert nb is not None
        html = export.to_html(nb, export.page_title(t.name, t.template_name))
        (staging / HTML_FILE).write_text(html, encoding="utf-8")
        if t.pdf:
            export.html_to_pdf(staging / HTML_FILE, staging / PDF_FILE)
        from planeco_kernel.reports.diagnostic import source_versions
        from planeco_kernel.reports.stamp import read_manifest

        sources = source_versions(read_manifest(t.data_dir or None))
        if prev_figures and (staging / APPENDIX_FILE).is_file():
            outcome.changes = len(compare(read_csv(staging / APPENDIX_FILE), read_csv(prev_figures), level=t.level,
                                          code=t.code, current_sources=sources, previous_sources=prev_sources))
        finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
        outcome.status = "ok"
        outcome.finished_at = finished
        outcome.files = sorted(p.name for p in staging.iterdir())
        outcome.duration = round(time.perf_counter() - started, 3)
        meta = {**outcome.to_dict(), "template": t.template_name, "parameters": t.parameters, "stamp": t.stamp,
                "sources": sources}
        meta["files"] = sorted(set(outcome.files) | {META_FILE})
        outcome.files = meta["files"]
        (staging / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        _archive(out, t, staging, finished)
        publish(staging, final)
    except Exception as exc:
        outcome.status = "failed"
        outcome.error, outcome.failed_cell = _cell_error(exc)
        outcome.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        outcome.duration = round(time.perf_counter() - started, 3)
        if nb_path.is_file():
            failed = out / FAILED_DIR / t.level / f"{t.code}.ipynb"
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(nb_path, failed)
        shutil.rmtree(staging, ignore_errors=True)
    return outcome.to_dict()
