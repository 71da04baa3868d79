"""planeco_kernel — the shared library behind planeco's notebooks, apps and reports.

Everything a notebook, a Voilà app or a Papermill template needs goes through this package:
data sources and the built data bundle (:mod:`planeco_kernel.bundle`), the territory model
(:mod:`planeco_kernel.territory`), and the command-line interface (:mod:`planeco_kernel.cli`).
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
