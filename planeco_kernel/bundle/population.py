"""Population municipale by census year (2018…2023) on the current geography, all levels.

Sources
-------
Every pinned package version carries one census year in ``communes.json`` (``population``)
and the previous one in ``epci.json`` (member figures): see ``registry.yaml``. For each census
year the candidate files are ordered by how recent their geography is (most recent first,
``communes.json`` before ``epci.json`` for the same version); the first is the *primary* source.
Each candidate is carried onto the current communes with :func:`~planeco_kernel.bundle.crosswalk.crosswalk`.

A file that re-publishes an older file's census year on a changed geography is left out
(:func:`republications`): ``communes.json@3.1.1`` keeps 2.3.1's 2020 figures but relabels them
with the 2023 codes without re-summing the 8 communes nouvelles of 1 January 2023 (85289 Terval
got 1 332 instead of 2 170). For 2020 the primary is therefore ``epci.json@3.1.1`` (the 2020
census, re-summed on the 2023 geography), then ``communes.json@2.3.1`` carried through the crosswalk.
All remaining candidates of a census year must agree exactly on the communes they share after
mapping; :func:`disagreements` lists the pairs that do not (recorded in the bundle manifest).

Rules (commune level)
---------------------
* ``direct``: the old commune is the current one (same territory): value as published, no flag.
* ``merged_sum``: a current commune nouvelle gathers several old communes: their values are
  summed (flag ``merged_sum``).
* Splits: when an old commune now forms several current communes (communes rétablies, e.g.
  15031, 15035, 15047, 15171 out of 15141 in 2025; 85165 and 85212 out of 85084 in 2024; the
  old 60054 « Les Hauts-Talican » now 60054 + 60694), the old value cannot be allocated. It goes
  whole to the group's *holder* (flag ``split_unallocated``) and the other current communes of
  the group get no value (flag ``split_recreated``). No value is ever counted twice.
* Before falling back to that rule, a later publication of the same census year on a more recent
  geography is used when it gives a clean (direct or merged) value for *every* current commune of
  the group, e.g. the 2022 figures of ``epci.json@6.0.0`` already split 15141.
* Mayotte (976): only the 2017 census exists in these files; every census year 2018…2023 is
  missing (flag ``not_censused``), see ``territories`` for the 2017 figure.
* A current commune absent from the source (the four islands without EPCI in ``epci.json``)
  is missing (flag ``missing``).

``source`` names the file and version of each value (``communes.json@4.1.0``).

Rules (roll-ups)
----------------
EPCI, SCoT, département, région and France values are sums over their current member communes.
A missing commune value is *covered* when it is a ``split_recreated`` commune whose holder is in
the same territory; any uncovered missing value makes the sum ``partial``; a holder whose
recreated communes lie in another territory makes it ``split_unallocated``; no value at all
gives a missing value (``missing``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planeco_kernel.bundle.crosswalk import crosswalk
from planeco_kernel.sources.etalab import MAYOTTE_DEPARTEMENT

CLEAN = {"", "merged_sum"}


@dataclass(frozen=True)
class Candidate:
    """One published set of commune values for a census year."""

    census_year: int
    file: str
    version: str
    vintage: int
    values: pd.Series
    """Population by commune code of that vintage."""

    @property
    def source(self) -> str:
        return f"{self.file}@{self.version}"


def candidates(cog_communes: pd.DataFrame, cog_epci_members: pd.DataFrame, years: range,
               keep_republications: bool = False) -> dict[int, list[Candidate]]:
    """All candidate sources per census year, most recent geography first.

    Re-publications on a changed geography are left out unless ``keep_republications``
    (see :func:`republications`).
    """
    out: dict[int, list[Candidate]] = {y: [] for y in years}
    act = cog_communes[(cog_communes["type"] == "commune-actuelle")
                       & (cog_communes["departement_code"] != MAYOTTE_DEPARTEMENT)]
    for (vintage, version, year), g in act.groupby(["vintage", "package_version", "census_year"]):
        if year in out:
            out[year].append(Candidate(int(year), "communes.json", version, int(vintage),
                                       g.set_index("code")["population"]))
    mem = cog_epci_members[~cog_epci_members["commune_code"].str.startswith(MAYOTTE_DEPARTEMENT)]
    versions = cog_communes.drop_duplicates("vintage").set_index("vintage")["package_version"]
    seen: set[tuple[int, int]] = set()
    for (vintage, year), g in sorted(mem.groupby(["vintage", "census_year"]), key=lambda kv: -kv[0][0]):
        if year in out and (year, vintage) not in seen:
            seen.add((year, vintage))
            out[year].append(Candidate(int(year), "epci.json", str(versions[vintage]), int(vintage),
                                       g.drop_duplicates("commune_code").set_index("commune_code")["population"]))
    geography = {int(v): frozenset(g["code"]) for v, g in act.groupby("vintage")}
    for y in out:
        if not keep_republications:
            out[y] = [c for c in out[y] if _first_publication(c, out[y], geography) is None]
        out[y].sort(key=lambda c: (-c.vintage, c.file != "communes.json"))
    return out


def republications(cog_communes: pd.DataFrame, cog_epci_members: pd.DataFrame,
                   years: range) -> list[dict[str, object]]:
    """Candidates left out because they re-publish an older file's figures on a changed geography.

    A package version that did not update a census year (``communes.json@3.1.1`` keeps the 2020
    census of ``communes.json@2.3.1``) relabels the old figures with the new codes without
    re-summing the communes merged in between: a commune nouvelle gets only its main village's
    figure. Such a candidate is dropped; the first publication is carried through the crosswalk.
    A re-publication on an unchanged geography (same commune codes) is kept.
    """
    act = cog_communes[(cog_communes["type"] == "commune-actuelle")
                       & (cog_communes["departement_code"] != MAYOTTE_DEPARTEMENT)]
    geography = {int(v): frozenset(g["code"]) for v, g in act.groupby("vintage")}
    out = []
    for year, cands in candidates(cog_communes, cog_epci_members, years, keep_republications=True).items():
        for c in cands:
            first = _first_publication(c, cands, geography)
            if first is not None:
                out.append({"census_year": year, "source": c.source, "first_published_by": first.source,
                            "reason": "mêmes chiffres que la première publication, non réagrégés sur la "
                                      "géographie plus récente (communes nouvelles sous-estimées)"})
    return out


def _first_publication(c: Candidate, cands: list[Candidate], geography: dict[int, frozenset]) -> Candidate | None:
    """The older candidate of the same file and census year, when ``c``'s geography changed since it."""
    older = [o for o in cands if o.file == c.file and o.vintage < c.vintage]
    if not older:
        return None
    first = min(older, key=lambda o: o.vintage)
    return first if geography.get(first.vintage) != geography.get(c.vintage) else None


def carry(cand: Candidate, xwalk: pd.DataFrame) -> pd.DataFrame:
    """Carry one candidate onto the current communes: columns code, population, flag, holder, group."""
    x = xwalk[xwalk["current_code"].notna()].copy()
    x["value"] = x["old_code"].map(cand.values).astype("Int64")
    hold = x[(x["role"] == "holder") | (x["relation"] == "new")].copy()
    hold["na"] = hold["value"].isna()
    agg = hold.groupby("current_code").agg(
        population=("value", "sum"), n_na=("na", "sum"),
        relation=("relation", "first"), n_old=("n_old", "first"), group=("group", "first"))
    agg["population"] = agg["population"].astype("Int64").mask(agg["n_na"] > 0)
    agg = agg.drop(columns="n_na")
    agg["flag"] = ""
    agg.loc[agg["relation"] == "merged", "flag"] = "merged_sum"
    agg.loc[agg["relation"] == "split", "flag"] = "split_unallocated"
    agg.loc[(agg["relation"] == "split") & (agg["n_old"] > 1), "flag"] = "merged_sum,split_unallocated"
    agg.loc[agg["population"].isna(), "flag"] = "missing"
    agg["holder"] = pd.NA
    rec = x[x["role"] == "recreated"].drop_duplicates("current_code")
    holders = x[x["role"] == "holder"].drop_duplicates("group").set_index("group")["current_code"]
    recd = pd.DataFrame({"population": pd.NA, "relation": "split", "n_old": rec["n_old"].to_numpy(),
                         "group": rec["group"].to_numpy(), "flag": "split_recreated",
                         "holder": rec["group"].map(holders).to_numpy()},
                        index=pd.Index(rec["current_code"].to_numpy(), name="current_code"))
    out = pd.concat([agg, recd])
    out.index.name = "code"
    out = out.reset_index()[["code", "population", "flag", "holder", "group"]]
    out["population"] = out["population"].astype("Int64")
    out["source"] = cand.source
    return out


def commune_population(cog_communes: pd.DataFrame, cog_epci_members: pd.DataFrame, current_vintage: int,
                       years: range = range(2018, 2024), relevant: set[str] | None = None,
                       xwalks: dict[int, pd.DataFrame] | None = None,
                       audit: list[dict[str, object]] | None = None) -> pd.DataFrame:
    """Commune-level series on the geography of ``current_vintage`` (rules in the module docstring).

    Parameters
    ----------
    audit
        When given, receives one record per pair of candidates of the same census year that
        disagree on a commune both give a clean value for, once carried onto the current
        geography (see :func:`disagreements`).

    Returns
    -------
    DataFrame
        Columns code, census_year, population, source, flag, holder (for ``split_recreated``).
    """
    current = cog_communes[cog_communes["vintage"] == current_vintage]
    codes = current.loc[current["type"] == "commune-actuelle", "code"]
    if relevant is None:
        relevant = set(cog_communes.loc[cog_communes["type"] == "commune-actuelle", "code"])
    by_vintage = {v: g for v, g in cog_communes.groupby("vintage")}
    xwalks = dict(xwalks or {})
    frames = []
    for year, cands in candidates(cog_communes, cog_epci_members, years).items():
        if not cands:
            frames.append(pd.DataFrame({"code": codes.to_numpy(), "population": pd.NA, "flag": "missing",
                                        "holder": pd.NA, "source": "aucune source", "census_year": year}))
            continue
        carried = []
        for c in cands:
            if c.vintage not in xwalks:
                xwalks[c.vintage] = crosswalk(by_vintage[c.vintage], current, relevant)
            carried.append(carry(c, xwalks[c.vintage]).set_index("code").reindex(codes))
        primary = carried[0]
        if audit is not None:
            audit.extend(disagreements(year, cands, carried))
        chosen = primary.copy()
        group = primary["group"]
        pending = pd.Series(True, index=codes)
        for cand in carried:
            clean = cand["flag"].isin(CLEAN) & cand["population"].notna()
            group_clean = clean.groupby(group).transform("all")
            take = pending & group_clean
            chosen.loc[take] = cand.loc[take]
            pending &= ~take
        # communes the primary does not know (missing): first candidate that has them
        for cand in carried[1:]:
            take = chosen["flag"].eq("missing") & cand["population"].notna() & cand["flag"].isin(CLEAN)
            chosen.loc[take] = cand.loc[take]
        chosen["flag"] = chosen["flag"].fillna("missing")
        chosen["source"] = chosen["source"].fillna(cands[0].source)
        chosen["census_year"] = year
        frames.append(chosen.reset_index())
    out = pd.concat(frames, ignore_index=True)
    mayotte = out["code"].str.startswith(MAYOTTE_DEPARTEMENT)
    out.loc[mayotte, ["population"]] = pd.NA
    out.loc[mayotte, "flag"] = "not_censused"
    out["population"] = out["population"].astype("Int64")
    out["census_year"] = out["census_year"].astype("int16")
    out["flag"] = out["flag"].replace("", pd.NA).astype("string")
    return out[["code", "census_year", "population", "source", "flag", "holder"]]


def disagreements(year: int, cands: list[Candidate], carried: list[pd.DataFrame],
                  examples: int = 10) -> list[dict[str, object]]:
    """Pairs of candidates of one census year that differ on shared communes after mapping.

    Two publications of the same census year must give the same figure for every current
    commune that both give a clean (direct or re-summed) value for. Each disagreeing pair gives
    one record: census_year, sources, communes (count), difference (sum, second minus first),
    examples (up to ``examples`` of {code, values}).
    """
    out = []
    for i in range(len(carried)):
        for j in range(i + 1, len(carried)):
            a, b = carried[i], carried[j]
            both = (a["flag"].isin(CLEAN) & a["population"].notna()
                    & b["flag"].isin(CLEAN) & b["population"].notna())
            diff = both & (a["population"] != b["population"]).fillna(False)
            if not diff.any():
                continue
            codes = diff[diff].index
            out.append({"census_year": int(year), "sources": [cands[i].source, cands[j].source],
                        "communes": int(len(codes)),
                        "difference": int((b.loc[codes, "population"] - a.loc[codes, "population"]).sum()),
                        "examples": [{"code": str(c), "values": [int(a.at[c, "population"]), int(b.at[c, "population"])]}
                                     for c in codes[:examples]]})
    return out


def rollup(communes: pd.DataFrame, parent: pd.Series, level: str) -> pd.DataFrame:
    """Sum a commune series to the territories named by ``parent`` (commune code → parent code).

    Communes without a parent (``NA``) are left out of this level.
    """
    df = communes.copy()
    df["parent"] = df["code"].map(parent)
    df = df[df["parent"].notna()]
    holder_parent = df["holder"].map(parent)
    na = df["population"].isna()
    covered = na & df["flag"].eq("split_recreated") & holder_parent.eq(df["parent"]).fillna(False)
    df["uncovered"] = na & ~covered
    split_out = df["flag"].eq("split_recreated") & ~holder_parent.eq(df["parent"]).fillna(False)
    spill = set(zip(holder_parent[split_out], df.loc[split_out, "census_year"]))
    g = df.groupby(["parent", "census_year"], sort=True)
    out = g.agg(population=("population", "sum"), n_values=("population", "count"),
                uncovered=("uncovered", "any"))
    out["all_na"] = out["n_values"] == 0
    out["population"] = out["population"].astype("Int64").mask(out["all_na"])
    src = (df[["parent", "census_year", "source"]].drop_duplicates().sort_values("source")
           .groupby(["parent", "census_year"])["source"].agg(",".join))
    out["source"] = src
    out = out.reset_index().rename(columns={"parent": "code"})
    flags = []
    for code, year, unc, all_na in zip(out["code"], out["census_year"], out["uncovered"], out["all_na"]):
        f = []
        if all_na:
            f.append("missing")
        elif unc:
            f.append("partial")
        if (code, year) in spill:
            f.append("split_unallocated")
        flags.append(",".join(f) or pd.NA)
    out["flag"] = pd.array(flags, dtype="string")
    out["level"] = level
    out["population"] = out["population"].astype("Int64")
    return out[["level", "code", "census_year", "population", "source", "flag"]]


def population_table(commune_series: pd.DataFrame, parents: dict[str, pd.Series]) -> pd.DataFrame:
    """The ``population`` table: communes plus each level of ``parents`` (level → commune→parent)."""
    com = commune_series.assign(level="commune")[["level", "code", "census_year", "population", "source", "flag"]]
    frames = [com] + [rollup(commune_series, p, lvl) for lvl, p in parents.items()]
    out = pd.concat(frames, ignore_index=True)
    out["census_year"] = out["census_year"].astype("int16")
    for c in ("level", "code", "source", "flag"):
        out[c] = out[c].astype("string")
    return out
