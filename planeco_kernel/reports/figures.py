"""The register of every number a report shows, and its CSV appendix.

A report adds each figure it displays to a :class:`FigureRegister` (section, indicator,
territory, value, unit, year, source); the register becomes the report's CSV appendix and the
basis of the "what changed" comparison with the previous run (:mod:`planeco_kernel.reports.changes`).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

APPENDIX_FILE = "annexe_chiffres.csv"
"""File name of the CSV appendix in a report's folder."""

COLUMNS = ("section", "indicateur", "territoire_code", "territoire_niveau", "territoire_nom", "valeur", "unite",
           "annee", "source")


@dataclass(frozen=True)
class Figure:
    """One number shown in a report.

    Attributes
    ----------
    section, indicateur
        Where it is shown and what it measures (French labels, as in the report).
    territoire_code, territoire_niveau, territoire_nom
        Which territory it describes (the report's territory, a parent, a peer or a member).
    valeur, unite
        The value and its unit (``hab``, ``%``, ``hab/km²``…); ``None`` when unknown.
    annee
        Reference year (census year, vintage) or ``None``.
    source
        Source and version, e.g. ``"communes.json@6.0.0"``.
    """

    section: str
    indicateur: str
    territoire_code: str
    territoire_niveau: str
    territoire_nom: str
    valeur: float | None
    unite: str
    annee: int | None
    source: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity across runs: section, indicator, territory level and code (not the year)."""
        return (self.section, self.indicateur, self.territoire_niveau, self.territoire_code)


class FigureRegister:
    """Ordered collection of the :class:`Figure` objects of one report."""

    def __init__(self) -> None:
        self._figures: list[Figure] = []

    def add(self, section: str, indicateur: str, territory: Any, valeur: float | None, unite: str,
            annee: int | None, source: str) -> float | None:
        """Register a figure about ``territory`` (a :class:`~planeco_kernel.territory.Territory`); return the value."""
        v = None if valeur is None or (isinstance(valeur, float) and math.isnan(valeur)) else valeur
        self._figures.append(Figure(section, indicateur, territory.code, territory.level, territory.name, v, unite,
                                    None if annee is None else int(annee), source))
        return valeur

    def __iter__(self):
        return iter(self._figures)

    def __len__(self) -> int:
        return len(self._figures)

    def records(self) -> list[dict[str, Any]]:
        """The figures as dictionaries, in display order."""
        return [asdict(f) for f in self._figures]

    def frame(self):
        """The figures as a pandas DataFrame (columns :data:`COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(self.records(), columns=list(COLUMNS))

    def to_csv(self, path: str | Path) -> Path:
        """Write the appendix (UTF-8 with BOM so that spreadsheet software reads accents; ``;`` separator)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";", lineterminator="\n")
        w.writerow(COLUMNS)
        for f in self._figures:
            w.writerow([_cell(getattr(f, c)) for c in COLUMNS])
        path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
        return path


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):  # numpy scalars included
        return repr(round(float(v), 6))
    return str(v)


def read_csv(path: str | Path) -> list[Figure]:
    """Read an appendix written by :meth:`FigureRegister.to_csv` back into figures."""
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{path} : ce n'est pas une annexe de rapport planeco (colonnes attendues : "
                         f"{', '.join(COLUMNS)}).")
    names = [f.name for f in fields(Figure)]
    out = []
    for r in rows[1:]:
        d = dict(zip(names, r))
        out.append(Figure(d["section"], d["indicateur"], d["territoire_code"], d["territoire_niveau"],
                          d["territoire_nom"], float(d["valeur"]) if d["valeur"] else None, d["unite"],
                          int(d["annee"]) if d["annee"] else None, d["source"]))
    return out
