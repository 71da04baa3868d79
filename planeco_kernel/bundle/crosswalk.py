"""Crosswalk from the communes of an older COG vintage to the current communes.

Each vintage's communes-actuelles are made of *atoms*: their own code, the codes they
absorbed (``anciensCodes``), and the communes déléguées/associées attached to them
(``chefLieu``). Only the ``anciensCodes`` that are communes-actuelles in some vintage at hand
count (``relevant``): older entries are decades-old mergers, and some are misattributed in a
few package versions (08227 and 45117 in 2.3.1). When the two sources disagree (a few stale ``anciensCodes``, e.g. 55273 or 60455 in
COG 2024–2026), the explicit déléguée/associée record wins. Old and current communes that
share an atom are linked; each connected group of the resulting graph is one piece of
territory whose extent is the same in both vintages:

* one old, one current commune: ``direct`` (the same commune, possibly renamed or recoded);
* several old, one current: ``merged`` (a commune nouvelle; old values are summed);
* one or more old, several current: ``split`` (communes rétablies). The old value cannot be
  allocated between the current communes: it goes to the *holder* — the current commune of the
  group with the largest current population (ties: the one keeping an old code) — and the
  other current communes of the group get no value (they are ``recreated``);
* a current commune with no old counterpart is ``new``; an old commune with no current
  counterpart is ``unmatched`` (reported, never silently dropped).
"""

from __future__ import annotations

import pandas as pd

_LINKED = ("commune-deleguee", "commune-associee")


def atoms(communes: pd.DataFrame, relevant: set[str] | None = None) -> dict[str, str]:
    """Map every atom code of one vintage to the commune-actuelle that contains it.

    ``relevant``: the codes worth tracking (communes-actuelles of any vintage); ``anciensCodes``
    outside it are ignored. ``None`` keeps them all.
    """
    act = communes[communes["type"] == "commune-actuelle"]
    actual = set(act["code"].tolist())
    owner: dict[str, str] = {}
    for code, anciens in zip(act["code"].tolist(), act["anciens_codes"].tolist()):
        owner[code] = code
        for a in anciens if anciens is not None else ():
            if a not in actual and (relevant is None or a in relevant):
                owner.setdefault(a, code)
    linked = communes[communes["type"].isin(_LINKED)]
    for code, chef in zip(linked["code"].tolist(), linked["chef_lieu"].tolist()):
        if code not in actual and isinstance(chef, str) and chef in actual:
            owner[code] = chef  # the explicit record wins over anciensCodes
    return owner


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(self, x: tuple[str, str]) -> tuple[str, str]:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def crosswalk(old: pd.DataFrame, current: pd.DataFrame, relevant: set[str] | None = None) -> pd.DataFrame:
    """Link the communes-actuelles of ``old`` to those of ``current`` (both ``cog_communes`` rows).

    Returns
    -------
    DataFrame
        One row per (group, old commune, current commune) pair with columns ``group``,
        ``old_code``, ``current_code`` (either may be missing for ``new``/``unmatched``),
        ``relation`` (direct, merged, split, new, unmatched), ``role`` of the current commune
        (``holder`` or ``recreated``), ``n_old``, ``n_current``.
    """
    if relevant is None:
        relevant = set(old.loc[old["type"] == "commune-actuelle", "code"]) | set(
            current.loc[current["type"] == "commune-actuelle", "code"])
    a_old, a_cur = atoms(old, relevant), atoms(current, relevant)
    cur_act = current[current["type"] == "commune-actuelle"]
    cur_pop = dict(zip(cur_act["code"].tolist(), cur_act["population"].tolist()))
    # one-to-one pairs (the vast majority) are direct without going through the union-find
    o_codes, n_codes = set(a_old.values()), set(a_cur.values())
    pairs: dict[str, set[str]] = {}
    back: dict[str, set[str]] = {}
    for atom, o in a_old.items():
        n = a_cur.get(atom)
        if n is not None:
            pairs.setdefault(o, set()).add(n)
            back.setdefault(n, set()).add(o)
    groups: dict[tuple[str, str], dict[str, list[str]]] = {}
    uf = _UnionFind()
    for o in o_codes:
        ns = pairs.get(o, set())
        if len(ns) == 1:
            (n,) = ns
            if back[n] == {o}:
                groups[("n", n)] = {"o": [o], "n": [n]}
                continue
        uf.find(("o", o))
        for n in ns:
            uf.union(("o", o), ("n", n))
    for n in n_codes:
        if ("n", n) not in groups:
            uf.find(("n", n))
    for node in list(uf.parent):
        g = groups.setdefault(uf.find(node), {"o": [], "n": []})
        g[node[0]].append(node[1])
    rows = []
    for root, g in groups.items():
        olds, curs = sorted(g["o"]), sorted(g["n"])
        gid = f"{root[0]}:{root[1]}"
        if not curs:
            rows += [{"group": gid, "old_code": o, "current_code": None, "relation": "unmatched",
                      "role": None} for o in olds]
            continue
        if not olds:
            rows += [{"group": gid, "old_code": None, "current_code": c, "relation": "new", "role": None}
                     for c in curs]
            continue
        if len(curs) == 1:
            rel = "merged" if len(olds) > 1 else "direct"
            rows += [{"group": gid, "old_code": o, "current_code": curs[0], "relation": rel, "role": "holder"}
                     for o in olds]
            continue
        holder = max(curs, key=lambda c: (_pop(cur_pop, c), c in olds, c))
        for c in curs:
            for o in olds:
                rows.append({"group": gid, "old_code": o, "current_code": c, "relation": "split",
                             "role": "holder" if c == holder else "recreated"})
    df = pd.DataFrame(rows, columns=["group", "old_code", "current_code", "relation", "role"])
    sizes = df.groupby("group").agg(n_old=("old_code", "nunique"), n_current=("current_code", "nunique"))
    return df.join(sizes, on="group").astype({"old_code": "string", "current_code": "string"})


def _pop(series: dict, code: str) -> int:
    v = series.get(code)
    return -1 if v is None or pd.isna(v) else int(v)
