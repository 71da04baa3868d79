"""Per-territory reports: parameterized notebook templates run by papermill, in batches.

- Templates: ``parameterized/*.ipynb`` (:mod:`~planeco_kernel.reports.templates`); they call
  :mod:`~planeco_kernel.reports.notebook` (the renderer: Markdown and HTML through
  :mod:`planeco_kernel.apps.templates`), which shows the sections of the view-model
  :mod:`~planeco_kernel.reports.view` built on :mod:`~planeco_kernel.reports.diagnostic` (figures),
  :mod:`~planeco_kernel.charts`,
  :mod:`~planeco_kernel.reports.figures` (CSV appendix) and :mod:`~planeco_kernel.reports.changes`
  ("what changed").
- Batch runner: :func:`~planeco_kernel.reports.runner.run_reports` (``planeco reports run``),
  one report per task (:mod:`~planeco_kernel.reports.executor`) on fresh pre-warmed kernels
  (:mod:`~planeco_kernel.reports.pool`, :mod:`~planeco_kernel.reports.zygote`), inputs hashes
  (:mod:`~planeco_kernel.reports.stamp`), manifest and index
  (:mod:`~planeco_kernel.reports.batch`, :mod:`~planeco_kernel.reports.index`), exports
  (:mod:`~planeco_kernel.reports.export`) and scheduling (:mod:`~planeco_kernel.reports.schedule`).

Heavy imports (papermill, pandas, matplotlib) happen inside the functions.
"""

from __future__ import annotations

__all__ = ["RunOptions", "run_reports"]


def __getattr__(name: str):
    if name in __all__:
        from planeco_kernel.reports import runner

        return getattr(runner, name)
    raise AttributeError(name)
