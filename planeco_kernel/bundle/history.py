"""``code_history``: every commune code of every vintage, with its current successor.

One row per (code, vintage) for every code that appears in any vintage (communes actuelles,
déléguées, associées and arrondissements municipaux); vintages where the code does not appear
get ``type = "absent"``. When a code is both a commune-actuelle and a commune déléguée in the
same vintage (a commune nouvelle keeping the code of one of its parts), the commune-actuelle
row is kept.

``current_code`` is the commune of the current COG that covers what the code designated that
vintage: the code itself when it is still a commune; the commune nouvelle that absorbed it;
the commune of an arrondissement municipal; the holder of a split (see
:mod:`planeco_kernel.bundle.crosswalk`). ``event`` summarises what happened between that
vintage and the current one: ``none``, ``renamed``, ``merged`` (absorbed into, or absorbing,
other communes), ``split`` (communes were re-created out of it), ``recreated`` (a commune
déléguée that became a commune again); ``note`` explains it in French. For ``split`` rows,
``split_group`` lists the current communes that share the territory the code covered that
vintage, holder first (structured: readers never parse the note).
"""

from __future__ import annotations

import pandas as pd

from planeco_kernel.bundle.crosswalk import atoms

_ORDER = {"commune-actuelle": 0, "commune-deleguee": 1, "commune-associee": 2, "arrondissement-municipal": 3}
_KIND_FR = {"commune-deleguee": "commune déléguée", "commune-associee": "commune associée"}


def code_history(cog_communes: pd.DataFrame, xwalks: dict[int, pd.DataFrame], current_vintage: int,
                 relevant: set[str] | None = None) -> pd.DataFrame:
    """Build the ``code_history`` table.

    Parameters
    ----------
    cog_communes
        All vintages of ``cog_communes``.
    xwalks
        Crosswalk of each older vintage to ``current_vintage`` (:func:`crosswalk`).
    """
    df = cog_communes.assign(_o=cog_communes["type"].map(_ORDER)).sort_values(["vintage", "code", "_o"])
    df = df.drop_duplicates(["vintage", "code"])
    vintages = sorted(df["vintage"].unique())
    cur = df[df["vintage"] == current_vintage]
    cur_act = cur[cur["type"] == "commune-actuelle"]
    cur_names = dict(zip(cur_act["code"].tolist(), cur_act["name"].tolist()))
    cur_atoms = atoms(cog_communes[cog_communes["vintage"] == current_vintage], relevant)
    rows = []
    for v in vintages:
        d = df[df["vintage"] == v]
        x = xwalks.get(v)
        info: dict[str, tuple[str, str | None, list[str], list[str]]] = {}
        if x is not None:
            groups: dict[str, dict] = {}
            for grp, o, c, rel, role in zip(x["group"].tolist(), x["old_code"].tolist(), x["current_code"].tolist(),
                                            x["relation"].tolist(), x["role"].tolist()):
                e = groups.setdefault(grp, {"olds": set(), "curs": set(), "holder": None, "rel": rel})
                if isinstance(o, str):
                    e["olds"].add(o)
                if isinstance(c, str):
                    e["curs"].add(c)
                if role == "holder":
                    e["holder"] = c
            for e in groups.values():
                olds, curs = sorted(e["olds"]), sorted(e["curs"])
                for o in olds:
                    info[o] = (e["rel"], e["holder"], olds, curs)
        names = dict(zip(d["code"].tolist(), d["name"].tolist()))
        for code, name, typ, chef in zip(d["code"].tolist(), d["name"].tolist(), d["type"].tolist(),
                                         d["chef_lieu"].tolist()):
            rows.append(_row(code, int(v), name, typ, chef, info, cur_names, cur_atoms, names, v == current_vintage))
    out = pd.DataFrame(rows)
    seen = out[["code"]].drop_duplicates()
    grid = seen.merge(pd.DataFrame({"vintage": vintages}), how="cross")
    out = grid.merge(out, on=["code", "vintage"], how="left")
    absent = out["type"].isna()
    out.loc[absent, "type"] = "absent"
    out = out.sort_values(["code", "vintage"])
    # an absent code keeps the name it had in the latest vintage where it appears
    known = out.dropna(subset=["name"]).drop_duplicates("code", keep="last").set_index("code")["name"]
    out["name"] = out["name"].fillna(out["code"].map(known))
    out.loc[absent, "note"] = "Code absent du COG " + out.loc[absent, "vintage"].astype(str) + "."
    out["vintage"] = out["vintage"].astype("int16")
    for c in ("code", "name", "type", "current_code", "event", "note"):
        out[c] = out[c].astype("string")
    if "split_group" not in out.columns:
        out["split_group"] = None
    out["split_group"] = out["split_group"].astype(object).where(out["split_group"].notna(), None)
    return out.sort_values(["code", "vintage"]).reset_index(drop=True)


def _row(code, v, name, typ, chef, info, cur_names, cur_atoms, names, is_current) -> dict:
    r = {"code": code, "vintage": v, "name": name, "type": typ}
    if typ == "arrondissement-municipal":
        return r | {"current_code": chef, "event": "none",
                    "note": f"Arrondissement municipal de {cur_names.get(chef, chef)} ({chef}), qui n'est pas une commune."}
    if typ == "commune-actuelle":
        rel, holder, olds, curs = info.get(code, ("direct", code, [code], [code]))
        if is_current:
            return r | {"current_code": code, "event": "none", "note": None}
        if rel == "unmatched":
            return r | {"current_code": None, "event": None,
                        "note": f"Aucune commune actuelle ne correspond à {code} ({name}) du COG {v}."}
        if code in cur_names:
            if rel == "split":
                others = [c for c in curs if c != code]
                return r | {"current_code": code, "event": "split", "split_group": [code, *others], "note":
                            f"En {v}, {code} « {name} » couvrait aussi " + ", ".join(f"{c} ({cur_names.get(c, c)})" for c in others)
                            + ", redevenues communes depuis : le territoire est aujourd'hui partagé entre "
                            + f"{len(curs)} communes."}
            if rel == "merged":
                absorbed = [o for o in olds if o != code]
                return r | {"current_code": code, "event": "merged", "note":
                            f"{code} a absorbé depuis {v} : " + ", ".join(f"{o} ({names.get(o, o)})" for o in absorbed) + "."}
            if cur_names[code] != name:
                return r | {"current_code": code, "event": "renamed",
                            "note": f"Renommée : « {name} » en {v}, « {cur_names[code]} » aujourd'hui."}
            return r | {"current_code": code, "event": "none", "note": None}
        target = holder or cur_atoms.get(code)
        if rel == "split":
            group = [target, *[c for c in curs if c != target]] if target else list(curs)
            return r | {"current_code": target, "event": "split", "split_group": group, "note":
                        f"{code} « {name} » ({v}) est aujourd'hui partagée entre " + ", ".join(
                            f"{c} ({cur_names.get(c, c)})" for c in curs) + "."}
        return r | {"current_code": target, "event": "merged",
                    "note": f"{code} « {name} » a fusionné après {v} dans {target} « {cur_names.get(target, target)} »."}
    kind = _KIND_FR.get(typ, typ)
    if code in cur_names and not is_current:
        return r | {"current_code": code, "event": "recreated", "note":
                    f"{kind.capitalize()} de {chef} en {v}, {code} est redevenue une commune « {cur_names[code]} »."}
    if code in cur_names:
        return r | {"current_code": code, "event": "none", "note":
                    f"Code porté à la fois par la commune « {cur_names[code]} » et par une {kind}."}
    target = cur_atoms.get(code) or chef
    if target not in cur_names:
        target = info.get(chef, (None, None))[1] or target
    return r | {"current_code": target if target in cur_names else None, "event": "merged", "note":
                f"{kind.capitalize()} « {name} » de la commune {chef} en {v} ; fait partie aujourd'hui de "
                f"{target} « {cur_names.get(target, '?')} »."}
