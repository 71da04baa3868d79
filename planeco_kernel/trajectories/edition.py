"""COP editions: a dated snapshot (scenarios, debates, declension, commitments) and what moved since.

The COP is annual (SGPE: « exercice de COP annuelle permettant une réévaluation périodique des
actions »). :func:`snapshot` freezes an edition as plain data (YAML-serialisable);
:func:`changes` compares two editions commitment by commitment: added, withdrawn, changed quantity.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

FORMAT = "planeco-cop-edition"
_KEY = ("territory_code", "lever_id", "actor", "action_id")


def snapshot(region_code: str, label: str, *, commitments: pd.DataFrame | None = None, scenarios=(),
             debates=(), declension: dict | None = None, date: dt.date | None = None) -> dict:
    c = commitments if commitments is not None else pd.DataFrame()
    rows = []
    for r in c.to_dict(orient="records"):
        rows.append({k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()})
    return {
        "format": FORMAT, "version": 1, "region": region_code, "label": label,
        "date": (date or dt.date.today()).isoformat(),
        "commitments": rows,
        "scenarios": [{"name": s.name, "version": s.version, "yaml": s.to_yaml()} for s in scenarios],
        "debates": [{"lever": d.lever_id, "title": d.title, "positions": d.positions, "conclusion": d.conclusion}
                    for d in debates],
        "declension": declension or {},
    }


def to_yaml(snap: dict) -> str:
    import yaml

    return yaml.safe_dump(snap, allow_unicode=True, sort_keys=False)


def from_yaml(text: str) -> dict:
    import yaml

    from planeco_kernel.errors import PlanecoError

    d = yaml.safe_load(text)
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise PlanecoError(f"Édition COP illisible : format attendu « {FORMAT} ».")
    return d


def _key(r: dict) -> tuple:
    return tuple("" if r.get(k) is None else str(r.get(k)) for k in _KEY)


def _keyed(rows: list[dict]) -> dict[tuple, dict]:
    """Commitments by (territory, lever, actor, action) and rank among identical keys."""
    out: dict[tuple, dict] = {}
    seen: dict[tuple, int] = {}
    for r in rows:
        k = _key(r)
        seen[k] = seen.get(k, 0) + 1
        out[(*k, seen[k])] = r
    return out


def changes(previous: dict, current: dict) -> pd.DataFrame:
    """Commitment by commitment: ``change`` in nouveau, retiré, modifié, inchangé."""
    prev = _keyed(previous.get("commitments", []))
    cur = _keyed(current.get("commitments", []))
    rows = []
    for k in sorted(set(prev) | set(cur)):
        a, b = prev.get(k), cur.get(k)
        qa = None if a is None else float(a["quantity"])
        qb = None if b is None else float(b["quantity"])
        if a is None:
            ch = "nouveau"
        elif b is None:
            ch = "retiré"
        elif qa != qb or a.get("unit") != b.get("unit") or a.get("year") != b.get("year"):
            ch = "modifié"
        else:
            ch = "inchangé"
        rows.append({**dict(zip(_KEY, k[:-1])), "change": ch, "quantity_before": qa, "quantity_after": qb,
                     "unit": (b or a).get("unit")})
    return pd.DataFrame(rows, columns=[*_KEY, "change", "quantity_before", "quantity_after", "unit"])
