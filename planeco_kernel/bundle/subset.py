"""A bundle of a few départements, cut from a complete bundle (the fast bundle of the tests).

:func:`derive_subset` keeps, from every table of a complete bundle, the rows of the communes of
the chosen départements and of the territories they belong to, and writes them as a new bundle
with the same layout, read by the same :class:`~planeco_kernel.bundle.reader.Bundle` reader. Values
are those of the complete bundle, row for row (nothing is recomputed but the indicator
components' rows, which are cut, not rebuilt), so what a test reads in the subset is what the
complete bundle says for the same commune.

What a subset is not: the complete picture above its communes. An EPCI or a SCoT that crosses
the subset's border is kept with the member communes inside it only; the région and France rows
keep their published populations, but every roll-up the cube computes (EPCI, SCoT, département,
région, France) sums the communes of the subset. The manifest says so (``subset``) and
``planeco data status`` shows it. National and regional planning tables (SGPE, baromètre,
Écolab, ZAN targets) are kept whole. The integrity, reference and benchmark tests read the complete
bundle; unit, notebook, report and app tests read this one (``tests/conftest.py``).

Command: ``planeco data subset DESTINATION`` (``--departements 01,42,59,69,84,86`` by default).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planeco_kernel.bundle import manifest, schema, territory_index
from planeco_kernel.bundle.reader import Bundle
from planeco_kernel.errors import BundleError

DEFAULT_DEPARTEMENTS = ("01", "42", "59", "69", "84", "86")
"""The tests' subset: Ain, Loire, Nord, Rhône (with the Métropole de Lyon and its extract), Vaucluse,
Vienne — the territories the app, report and notebook tests open (Poitiers 86194, Saint-Étienne
42218, Lyon 69123, Bourg-en-Bresse 01053, Lille 59350 and the Hauts-de-France of the COP app,
Vaucluse beside the région 84 for a code shared by two levels), split and merged communes of the
Ain among them."""


def _keep_sets(b: Bundle, deps: set[str]) -> dict[str, set[str]]:
    """Codes kept at each level, and the commune codes of every vintage in the départements."""
    t = b.read("territories", ["level", "code", "epci_code", "scot_code", "departement_code", "region_code"])
    unknown = sorted(deps - set(t.loc[t["level"] == "departement", "code"]))
    if unknown:
        raise BundleError(f"Département(s) inconnu(s) dans le paquet {b.data_dir} : {', '.join(unknown)}. "
                          "Donnez des codes de départements du COG (01, 2A, 974…).")
    communes = t[(t["level"] == "commune") & t["departement_code"].isin(deps)]
    keep = {
        "commune": set(communes["code"]),
        "epci": set(communes["epci_code"].dropna()),
        "scot": set(communes["scot_code"].dropna()),
        "departement": deps,
        "region": set(communes["region_code"].dropna()),
        "france": {schema.FRANCE_CODE},
    }
    cog = b.read("cog_communes", ["code", "departement_code"])
    keep["cog_commune"] = set(cog.loc[cog["departement_code"].isin(deps), "code"]) | keep["commune"]
    members = b.read("cog_epci_members", ["siren", "commune_code"])
    keep["cog_epci"] = set(members.loc[members["commune_code"].isin(keep["cog_commune"]), "siren"]) | keep["epci"]
    return keep


def _by_level(df: pd.DataFrame, keep: dict[str, set[str]]) -> pd.Series:
    mask = pd.Series(False, index=df.index)
    for level, codes in keep.items():
        if level in schema.LEVELS:
            mask |= (df["level"] == level) & df["code"].isin(codes)
    return mask


def _cut(name: str, df: pd.DataFrame, keep: dict[str, set[str]]) -> pd.DataFrame:
    """Rows of table ``name`` that describe the subset (the planning tables stay whole)."""
    if name in ("territories", "population", "display_geometry"):
        mask = _by_level(df, keep)
    elif name == "cog_communes":
        mask = df["code"].isin(keep["cog_commune"])
    elif name == "cog_epci":
        mask = df["siren"].isin(keep["cog_epci"])
    elif name == "cog_epci_members":
        mask = df["commune_code"].isin(keep["cog_commune"])
    elif name == "cog_departements":
        mask = df["code"].isin(keep["departement"])
    elif name == "cog_regions":
        mask = df["code"].isin(keep["region"])
    elif name == "code_history":
        mask = df["code"].isin(keep["cog_commune"]) | df["current_code"].isin(keep["commune"])
    elif name == "scot_members":
        mask = df["scot_code"].isin(keep["scot"]) & df["member_code"].isin(keep["commune"] | keep["epci"])
    elif name == "commune_geometry":
        mask = df["code"].isin(keep["commune"])
    elif "commune_code" in df.columns:  # sources' tidy frames, the Lyon flows
        mask = df["commune_code"].isin(keep["cog_commune"])
    elif "epci_siren" in df.columns:
        mask = df["epci_siren"].isin(keep["cog_epci"])
    else:  # régions and France: SGPE, baromètre, Écolab, ZAN targets
        return df
    return df[mask.to_numpy()]


def _cut_components(src: Path, dst: Path, keep: dict[str, set[str]]) -> int:
    from planeco_kernel.indicators.components import Components

    c = Components.from_parquet(src)
    rows = np.isin(c.codes.astype(str), list(keep["commune"]))
    cut = Components(
        c.codes[rows], c.years, {k: v[rows] for k, v in c.values.items()}, c.sources,
        {k: df[df.index.isin(keep["cog_epci"])] for k, df in c.official.items()}, c.notes,
        {k: v[rows] for k, v in c.scope.items()}, {k: v[rows] for k, v in c.flags.items()},
        [g for g in c.split_groups if set(g) <= keep["commune"]], c.provenance)
    cut.to_parquet(dst)
    return int(rows.sum())


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def derive_subset(source: str | os.PathLike, target: str | os.PathLike,
                  departements: Sequence[str] = DEFAULT_DEPARTEMENTS) -> dict[str, Any]:
    """Write into ``target`` the bundle of ``departements`` cut from the complete bundle ``source``;
    return its manifest. ``target`` is replaced atomically (a reader never sees half of it).

    Raises
    ------
    BundleError
        ``source`` is not a complete bundle (or is itself a subset), or a département is unknown.
    """
    b = Bundle(Path(source))
    raw = b.manifest_dict()
    if raw.get("subset"):
        raise BundleError(f"{b.data_dir} est déjà un paquet réduit ({', '.join(raw['subset']['departements'])}) : "
                          "partez du paquet complet (`planeco data build`).")
    deps = {str(d).strip().upper().zfill(2) if str(d).strip().isdigit() else str(d).strip().upper()
            for d in departements if str(d).strip()}
    if not deps:
        raise BundleError("Aucun département donné pour le paquet réduit (par exemple --departements 01,42,59,69,84,86).")
    keep = _keep_sets(b, deps)
    target = Path(target).resolve()
    tmp = target.with_name(f".{target.name}.subset-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        tables: dict[str, Any] = {}
        for name, entry in (raw.get("tables") or {}).items():
            df = _cut(name, b.read(name), keep)
            out = tmp / entry["path"]
            out.parent.mkdir(parents=True, exist_ok=True)
            df.to_parquet(out, index=False)
            tables[name] = {**entry, "rows": len(df), "bytes": out.stat().st_size, "sha256": _sha256(out)}
        for p in sorted((b.data_dir / "sources").glob("*.parquet")):
            out = tmp / "sources" / p.name
            out.parent.mkdir(parents=True, exist_ok=True)
            _cut(p.stem, pd.read_parquet(p), keep).to_parquet(out, index=False)
        if b.components_path.is_file():
            dst = tmp / schema.COMPONENTS_PATH
            dst.parent.mkdir(parents=True, exist_ok=True)
            _cut_components(b.components_path, dst, keep)
        now = time.time()
        raw = {**raw, territory_index.MANIFEST_KEY: territory_index.write(tmp, tables)}
        man = {**raw, "tables": tables,
               "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "built_at_epoch": now,
               "subset": {
                   "departements": sorted(deps),
                   "communes": len(keep["commune"]),
                   "from": {"data_dir": str(b.data_dir), "built_at": raw.get("built_at")},
                   "note": ("Paquet réduit à quelques départements, découpé dans le paquet complet : les valeurs "
                            "des communes sont celles du paquet complet ; les EPCI et SCoT à cheval sur sa "
                            "limite ne gardent que leurs communes du paquet, et les agrégats (EPCI, SCoT, "
                            "département, région, France) ne somment que ses communes. Pour les tests."),
               }}
        manifest.write(tmp, man)
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return man
