""""What changed" since the previous run of a report: new vintages, moved indicators, new sources.

:func:`compare` takes the figures of the current and previous runs (see
:mod:`planeco_kernel.reports.figures`) and the data stamps of both runs, and returns French
sentences, most notable first. Only figures about the report's own territory are compared
(parents, peers and members change with it and would drown the message).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planeco_kernel.reports.figures import Figure
from planeco_kernel import fmt

NOTABLE_RELATIVE_MOVE = 0.01
"""A figure in absolute units is notable when it moves by at least 1 %."""
NOTABLE_POINTS_MOVE = 0.1
"""A figure in % is notable when it moves by at least 0.1 point."""


@dataclass(frozen=True)
class Change:
    """One notable change; ``kind`` is ``vintage``, ``move``, ``new``, ``gone`` or ``source``."""

    kind: str
    text: str
    magnitude: float = 0.0


def _own(figures: Iterable[Figure], level: str, code: str) -> dict[tuple, Figure]:
    return {f.key: f for f in figures if f.territoire_niveau == level and f.territoire_code == code}


def compare(current: Iterable[Figure], previous: Iterable[Figure] | None, *, level: str, code: str,
            current_sources: Mapping[str, Any] | None = None,
            previous_sources: Mapping[str, Any] | None = None) -> list[Change]:
    """Notable changes between two runs of the same territory's report.

    Parameters
    ----------
    current, previous
        Figures of this run and of the previous one (``None``: no previous run).
    level, code
        The report's territory.
    current_sources, previous_sources
        ``{source name: version}`` of the data used by each run.

    Returns
    -------
    list of Change
        Source/vintage changes first, then figure moves by decreasing magnitude.
    """
    if previous is None:
        return []
    out: list[Change] = []
    cs, ps = dict(current_sources or {}), dict(previous_sources or {})
    for name in sorted(set(cs) | set(ps)):
        if cs.get(name) != ps.get(name):
            if name not in ps:
                out.append(Change("source", f"Nouvelle source : {name} ({cs[name]})."))
            elif name not in cs:
                out.append(Change("source", f"Source retirée : {name} (était {ps[name]})."))
            else:
                out.append(Change("source", f"Source mise à jour : {name} {ps[name]} → {cs[name]}."))
    cur, prev = _own(current, level, code), _own(previous, level, code)
    moves: list[Change] = []
    for key, f in cur.items():
        p = prev.get(key)
        label = f"{f.indicateur} ({f.section})"
        if p is None:
            moves.append(Change("new", f"Nouvel indicateur : {label} = {_v(f)}.", 0.0))
            continue
        if f.annee is not None and p.annee is not None and f.annee != p.annee:
            out.append(Change("vintage", f"Nouveau millésime pour {label} : {f.annee} (au lieu de {p.annee}) — "
                                         f"{_v(p)} → {_v(f)}."))
            continue
        if f.valeur is None or p.valeur is None or f.valeur == p.valeur:
            continue
        if f.unite == "%":
            delta = f.valeur - p.valeur
            if abs(delta) >= NOTABLE_POINTS_MOVE:
                moves.append(Change("move", f"{label} : {_v(p)} → {_v(f)} ({'+' if delta > 0 else '−'}"
                                            f"{fmt.number(abs(delta), 1)} point).", abs(delta) / 100))
        else:
            rel = (f.valeur - p.valeur) / abs(p.valeur) if p.valeur else float("inf")
            if abs(rel) >= NOTABLE_RELATIVE_MOVE:
                moves.append(Change("move", f"{label} : {_v(p)} → {_v(f)} ({'+' if rel > 0 else '−'}"
                                            f"{fmt.number(abs(rel) * 100, 1)} %).", abs(rel)))
    for key, p in prev.items():
        if key not in cur:
            moves.append(Change("gone", f"Indicateur absent de ce rapport : {p.indicateur} ({p.section}).", 0.0))
    moves.sort(key=lambda c: -c.magnitude)
    return out + moves


def _v(f: Figure) -> str:
    if f.valeur is None:
        return "non disponible"
    decimals = 0 if f.unite in ("hab", "communes", "") and float(f.valeur).is_integer() else 1
    unit = f" {f.unite}" if f.unite else ""
    return f"{fmt.number(f.valeur, decimals)}{unit}"
