"""Ready-made tables for notebooks and apps: availability, a territory's profile, rankings, series.

Notebooks stay thin: they call these functions and display the frames. Values keep their
source and vintage; labels and numbers are in French.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planeco_kernel.indicators.cube import Cube
from planeco_kernel.indicators.sentences import format_value


def availability(cube: Cube, theme: str | None = None) -> pd.DataFrame:
    """One row per indicator (of a theme): label, unit, status, years, source, and why/how when unavailable."""
    cat = cube.catalogue
    rows = []
    for ind in cat.by_theme(theme):
        st = cube.status[ind.id]
        src = cat.sources[ind.source]
        rows.append({
            "indicateur": ind.id, "libellé": ind.label, "unité": ind.unit,
            "statut": "disponible" if st.available else "indisponible",
            "années": ", ".join(map(str, st.years)) if st.available else "",
            "source": f"{src.title} ({src.vintage})",
            "remarque": st.reason,
        })
    return pd.DataFrame(rows)


def profile(cube: Cube, code: str, theme: str | None = None, level: str | None = None) -> pd.DataFrame:
    """A territory's available indicators (of a theme): value, year, parents' values (or why none),
    percentile and rank in the département (rank 1 = highest value, direction stated), sentence."""
    from planeco_kernel.indicators.comparison import comparator

    res = comparator(cube).compare(code, level)
    wanted = {i.id for i in cube.catalogue.by_theme(theme)}
    rows = []
    for it in res.indicators:
        if it.id not in wanted or not it.available:
            continue
        row = {"indicateur": it.label, "année": it.year, "valeur": it.value_text}
        for g in it.groups:
            if g.group != "peers":
                row[f"{g.group}"] = format_value(g.value, it.unit) if g.value is not None else (g.value_note or format_value(None, it.unit))
        dep = next((g for g in it.groups if g.group in ("departement", "france")), None)
        row["centile"] = None if dep is None or dep.percentile is None else round(dep.percentile)
        row["position"] = "" if dep is None else f"{dep.rank_text} ({'département' if dep.group == 'departement' else 'France'})"
        row["phrase"] = it.sentence
        rows.append(row)
    return pd.DataFrame(rows)


def ranking(cube: Cube, indicator_id: str, level: str, *, within: str | None = None, year: int | None = None,
            n: int = 10, ascending: bool = False) -> pd.DataFrame:
    """The ``n`` territories of ``level`` (inside ``within``) with the highest (or lowest) value."""
    cube.catalogue.get(indicator_id)
    ds = cube.dataset(level)
    da = ds[indicator_id]
    if year is None:
        have = ~np.isnan(da.values)
        cols = np.flatnonzero(have.any(axis=0))
        if not len(cols):
            return pd.DataFrame(columns=["code", "nom", "année", "valeur", "valeur (texte)"])
        year = int(ds["year"].values[cols[-1]])
    s = da.sel(year=year).to_series()
    df = pd.DataFrame({"code": s.index.astype(str), "nom": ds["name"].values, "valeur": s.to_numpy()})
    if within is not None:
        df = df[df["code"].isin(cube.members(level, within))]
    df = df.dropna(subset=["valeur"]).sort_values("valeur", ascending=ascending).head(n)
    unit = cube.catalogue.indicators[indicator_id].unit
    df.insert(2, "année", year)
    df["valeur (texte)"] = [format_value(v, unit) for v in df["valeur"]]
    return df.reset_index(drop=True)


def series(cube: Cube, indicator_id: str, codes: list[str], level: str) -> pd.DataFrame:
    """Values of an indicator by year (rows) for several territories of one level (columns, by name)."""
    cube.catalogue.get(indicator_id)
    ds = cube.dataset(level)
    da = ds[indicator_id].sel(territory=codes)
    df = da.to_pandas().T
    df.columns = [str(n) for n in ds["name"].sel(territory=codes).values]
    df.index = [int(y) for y in df.index]
    df.index.name = "année"
    return df.dropna(how="all")


def plot_ranking(df: pd.DataFrame, title: str):
    """A horizontal bar chart of a :func:`ranking` frame; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(df), 3) + 1))
    ax.barh(df["nom"][::-1], df["valeur"][::-1], color="#2a7f62")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def theme_summary(cube: Cube, theme: str) -> str:
    """A short French text: which indicators of a theme have values, which do not, and how to get them."""
    cat = cube.catalogue
    tid = cat.theme_id(theme)
    inds = cat.by_theme(tid)
    ok = [i for i in inds if cube.status[i.id].available]
    missing = [i for i in inds if not cube.status[i.id].available]
    lines = [f"Thème « {cat.themes[tid]} » : {len(ok)} indicateur{'s' if len(ok) > 1 else ''} disponible"
             f"{'s' if len(ok) > 1 else ''} sur {len(inds)} dans ce paquet de données."]
    for i in ok:
        st = cube.status[i.id]
        where = "" if i.available_at("commune") else f", {i.level_note('commune')}"
        lines.append(f"- disponible : {i.label} ({', '.join(map(str, st.years))}{where})")
    sources = {}
    for i in missing:
        sources.setdefault(i.source, []).append(i.label)
    for sid, labels in sources.items():
        src = cat.sources[sid]
        why = next(cube.status[i.id].reason for i in missing if i.source == sid)
        lines.append(f"- indisponibles faute de la source « {src.title} » : {', '.join(labels)}.")
        lines.append(f"  Pourquoi et comment l'obtenir : {why.removeprefix('Indisponible — ')}")
    return "\n".join(lines)
