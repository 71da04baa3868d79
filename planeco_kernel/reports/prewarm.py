"""Warm-up run in every fresh report kernel before use (see :mod:`planeco_kernel.reports.pool`).

Imports the libraries the templates use and loads the read-only territory model, its
population index and the display-geometry index of the bundle: the same for every report, no
territory-specific state. Also used by the naive path (a kernel not from the pool): then the
template pays these costs itself, which is what the benchmark measures.
"""

from __future__ import annotations


def run() -> None:
    """Import and load what every report needs; safe to call twice."""
    import matplotlib.figure  # noqa: F401
    import matplotlib.font_manager as fm
    import pandas  # noqa: F401
    import shapely  # noqa: F401
    from IPython.display import HTML, Image, Markdown  # noqa: F401

    import planeco_kernel.reports.notebook  # noqa: F401
    from planeco_kernel import geo
    from planeco_kernel.territory import load_model

    fm.findfont("DejaVu Sans")
    try:
        model = load_model()
        model.get("FR").population  # builds the population index
        geo.load_display("france", ["FR"])
    except Exception:  # no bundle here: the report itself will say so clearly
        return
    try:
        from planeco_kernel.indicators.comparison import comparator
        from planeco_kernel.indicators.cube import load_cube

        cube = load_cube()
        comp = comparator(cube)
        for level in ("commune", "epci", "scot", "departement", "region", "france"):
            comp.tables(level)
    except Exception:  # no indicator data: the report says so
        pass
