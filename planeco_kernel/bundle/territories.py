"""``territories``: every territory of the current geography, all levels, with parents and flags.

Communes are the communes-actuelles of the current COG in the départements (the communes of
the collectivités d'outre-mer are out of scope, see :mod:`planeco_kernel.sources.etalab`). The
45 arrondissements municipaux of Paris, Lyon and Marseille are *not* rows: they are parts of
their commune (75056, 69123, 13055), whose population already includes theirs; these three
communes carry the flag ``arrondissements_municipaux`` and ``code_history`` maps each
arrondissement code to its commune. Nothing is counted twice.

Every aggregate (EPCI, SCoT, département, région, France) is the sum of its current member
communes' latest population; its ``departement_code``/``region_code`` is the one holding most of
its population (flags ``multi_departement``/``multi_region`` when it spans several).

Flags (comma-separated): ``no_epci`` (the four island communes), ``census_2017`` (Mayotte: the
2017 census is the latest in the sources), ``mixed_census_years`` (an aggregate mixing census
years: France includes Mayotte's 2017 figures), ``merged`` (a commune nouvelle formed within the
vintages at hand), ``split_YYYY`` (a commune that lost, or was re-created out of, another in
the COG of year YYYY), ``arrondissements_municipaux``, ``multi_departement``, ``multi_region``,
``user_perimeter`` (a SCoT from the user's perimeter files), ``no_geometry`` (added by the geometry step).
"""

from __future__ import annotations

import pandas as pd

from planeco_kernel.bundle.schema import FRANCE_CODE

PLM = ("75056", "69123", "13055")


def _flags(*parts: pd.Series) -> pd.Series:
    df = pd.concat(parts, axis=1)
    return df.apply(lambda r: ",".join(x for x in r if isinstance(x, str) and x) or pd.NA, axis=1)


def commune_rows(cur: pd.DataFrame, latest: pd.DataFrame, commune_epci: dict[str, str],
                 commune_scot: dict[str, str], split_years: dict[str, int], merged: set[str]) -> pd.DataFrame:
    """Commune rows. ``latest``: code → population, census_year (latest census)."""
    c = cur[cur["type"] == "commune-actuelle"].copy()
    out = pd.DataFrame({
        "level": "commune", "code": c["code"].to_numpy(), "name": c["name"].to_numpy(), "nature": pd.NA,
        "commune_code": pd.NA,
        "epci_code": c["code"].map(commune_epci).to_numpy(),
        "scot_code": c["code"].map(commune_scot).to_numpy(),
        "departement_code": c["departement_code"].to_numpy(), "region_code": c["region_code"].to_numpy(),
    })
    lat = latest.set_index("code")
    out["population"] = out["code"].map(lat["population"]).astype("Int64").to_numpy()
    out["census_year"] = out["code"].map(lat["census_year"]).astype("Int16").to_numpy()
    out["members_count"] = 1
    f_epci = out["epci_code"].isna().map({True: "no_epci", False: ""})
    f_2017 = (out["census_year"] == 2017).map({True: "census_2017", False: ""}).fillna("")
    f_merged = out["code"].isin(merged).map({True: "merged", False: ""})
    f_split = out["code"].map(lambda x: f"split_{split_years[x]}" if x in split_years else "")
    f_plm = out["code"].isin(PLM).map({True: "arrondissements_municipaux", False: ""})
    out["flags"] = _flags(f_epci, f_2017, f_merged, f_split, f_plm).to_numpy()
    return out


def aggregate_rows(communes: pd.DataFrame, parent_col: str | None, level: str, names: dict[str, str],
                   natures: dict[str, str] | None = None, extra_flags: dict[str, str] | None = None,
                   parents: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """Aggregate commune rows by ``parent_col`` (``None``: all communes, France)."""
    c = communes.copy()
    c["_p"] = FRANCE_CODE if parent_col is None else c[parent_col]
    c = c[c["_p"].notna()]
    pop = c.groupby("_p")["population"].sum(min_count=1).astype("Int64")
    years = c.groupby("_p")["census_year"].agg(["max", "nunique"])
    count = c.groupby("_p").size()
    rows = pd.DataFrame({"code": pop.index, "population": pop.to_numpy(),
                         "census_year": years["max"].reindex(pop.index).astype("Int16").to_numpy(),
                         "members_count": count.reindex(pop.index).astype("int32").to_numpy()})
    flags: dict[str, list[str]] = {k: [] for k in rows["code"]}
    for code, n in years["nunique"].items():
        if n > 1:
            flags[code].append("mixed_census_years")
    for col, flag in (("departement_code", "multi_departement"), ("region_code", "multi_region")):
        by = c.groupby(["_p", col])["population"].sum(min_count=0).reset_index()
        by = by.sort_values(["_p", "population", col], ascending=[True, False, True])
        top = by.drop_duplicates("_p").set_index("_p")[col]
        rows[col] = rows["code"].map(top)
        for code, n in by.groupby("_p").size().items():
            if n > 1:
                flags[code].append(flag)
    if level in ("departement", "region", "france"):
        rows["departement_code"] = rows["code"] if level == "departement" else pd.NA
        if level == "region":
            rows["region_code"] = rows["code"]
        if level == "france":
            rows["region_code"] = pd.NA
        for code in flags:
            flags[code] = [f for f in flags[code] if not f.startswith("multi_")]
    for code, flag in (extra_flags or {}).items():
        if code in flags:
            flags[code].append(flag)
    if any(rows["census_year"] == 2017):
        for code, y in zip(rows["code"], rows["census_year"]):
            if y == 2017:
                flags[code].append("census_2017")
    rows["flags"] = [",".join(flags[c]) or pd.NA for c in rows["code"]]
    rows["level"] = level
    rows["name"] = rows["code"].map(names)
    rows["nature"] = rows["code"].map(natures) if natures else pd.NA
    rows["commune_code"] = pd.NA
    for col in ("epci_code", "scot_code"):
        rows[col] = rows["code"].map(parents.get(col, {})) if parents and col in parents else pd.NA
    return rows


def territories_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the levels in schema column order and types."""
    from planeco_kernel.bundle.schema import TERRITORIES

    df = pd.concat([p[list(TERRITORIES.column_names)] for p in parts], ignore_index=True)
    for col in TERRITORIES.columns:
        if col.dtype == "string":
            df[col.name] = df[col.name].astype("string")
    df["population"] = df["population"].astype("Int64")
    df["census_year"] = df["census_year"].astype("Int16")
    df["members_count"] = df["members_count"].astype("int32")
    return df
