"""Moving a source's commune rows to the current geography (COG of the bundle): every code ever seen
mapped to its current commune, values of merged communes summed (or left missing where they do not
add up), rows of split communes flagged. Used by :func:`planeco_kernel.indicators.components.assemble`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def current_code_map(code_history: pd.DataFrame, cog_communes: pd.DataFrame | None = None) -> pd.Series:
    """Map every code ever seen to its current commune (latest vintage wins).

    ``code_history`` covers the codes of the COG vintages at hand; ``cog_communes`` adds the
    older codes that those vintages list as absorbed (``anciens_codes``), mapped through the
    commune that absorbed them.
    """
    h = code_history.dropna(subset=["current_code"]).sort_values("vintage")
    out = h.drop_duplicates("code", keep="last").set_index("code")["current_code"].astype(str)
    if cog_communes is not None:
        act = cog_communes[(cog_communes["type"] == "commune-actuelle") & cog_communes["anciens_codes"].notna()]
        old = act[["vintage", "code", "anciens_codes"]].explode("anciens_codes").dropna(subset=["anciens_codes"])
        old = old.sort_values("vintage").drop_duplicates("anciens_codes", keep="last")
        extra = pd.Series(old["code"].astype(str).map(out).to_numpy(), index=old["anciens_codes"].astype(str).to_numpy())
        extra = extra.dropna()
        out = pd.concat([out, extra[~extra.index.isin(out.index)]])
    # plain object strings: mapping through Arrow-backed strings iterates them one by one (seconds)
    return pd.Series(out.to_numpy(dtype=object), index=pd.Index(out.index.astype(str).to_numpy(dtype=object), dtype=object),
                     dtype=object, name=out.name)


def to_current_geography(
    tidy: pd.DataFrame, code_map: pd.Series, current: pd.Index, extensive: set[str],
    subdivisions: frozenset[str] | set[str] = frozenset(),
) -> tuple[pd.DataFrame, list[str]]:
    """Move a tidy frame (``commune_code, year, variable, value``) onto the current communes.

    ``subdivisions`` are the codes of arrondissements municipaux (Paris, Lyon, Marseille). Some
    publications (INSEE Filosofi) give these communes both as a whole and by arrondissement: when
    the commune's own row is present, its arrondissements are dropped — summing them into it would
    count every household twice. Without the commune's row they are summed into it like any other
    part (extensive values only).

    Each year is moved on its own, with only the codes that have rows in that year: a commune
    created (or absorbed) between two vintages is no missing piece of the other vintage.

    Returns a frame indexed by current commune code with columns ``(variable, year)``, and the
    old codes that could not be matched.
    """
    parts: list[pd.DataFrame] = []
    unmatched: set[str] = set()
    for year, rows in tidy.groupby("year", sort=True):
        out, missed = _year_to_current(rows, code_map, current, extensive, subdivisions)
        out.columns = pd.MultiIndex.from_tuples([(v, int(year)) for v in out.columns], names=["variable", "year"])
        parts.append(out)
        unmatched.update(missed)
    if not parts:
        return pd.DataFrame(index=pd.Index([], dtype=str)), []
    return pd.concat(parts, axis=1), sorted(unmatched)


def _year_to_current(
    rows: pd.DataFrame, code_map: pd.Series, current: pd.Index, extensive: set[str],
    subdivisions: frozenset[str] | set[str],
) -> tuple[pd.DataFrame, list[str]]:
    """One year of :func:`to_current_geography`: columns are variables."""
    wide = rows.pivot_table(index="commune_code", columns="variable", values="value", aggfunc="first", dropna=False)
    wide.index = pd.Index(wide.index.astype(str).to_numpy(dtype=object), dtype=object)
    old = wide.index
    direct = old.isin(current)
    mapped = pd.Series(np.where(direct, old, old.map(code_map).astype(object).fillna("").to_numpy()), index=old, dtype=object)
    if subdivisions:
        whole_present = set(old[direct])
        redundant = old.isin(list(subdivisions)) & mapped.isin(whole_present).to_numpy()
        wide, old, mapped = wide.loc[~redundant], old[~redundant], mapped[~redundant]
    unmatched = sorted(mapped.index[mapped == ""])
    wide = wide.loc[(mapped != "").to_numpy()]
    target = mapped[mapped != ""].to_numpy()
    pieces = pd.Series(1, index=target).groupby(level=0).size()
    ext_cols = [c for c in wide.columns if c in extensive]
    int_cols = [c for c in wide.columns if c not in extensive]
    parts = []
    if ext_cols:
        parts.append(wide[ext_cols].groupby(target).sum(min_count=1).where(
            wide[ext_cols].notna().groupby(target).all()))
    if int_cols:
        first = wide[int_cols].groupby(target).first()
        single = (pieces.reindex(first.index) == 1).to_numpy()
        first.loc[~single] = np.nan
        parts.append(first)
    out = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=pd.Index([], dtype=str))
    return out, unmatched
