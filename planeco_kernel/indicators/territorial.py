"""Territorial components: values published per région or for France, never per commune.

Some series exist only above the commune: the SDES Écolab series of the baromètre de la
planification écologique are published by région, the baromètre's national series for France.
The catalogue declares such a component with ``levels:`` (``[region, france]``, or ``[region]``
where no national value exists) and its sources in order of preference; the source step of the
build writes each source's territorial frame (``level, code, year, variable, value``) to
``sources/<source_id>.parquet`` (:mod:`planeco_kernel.bundle.sources_step`), and the national
targets to ``sources/sgpe_barometre_targets.parquet``.

:func:`territorial_components` turns those frames into ``{component: {level: code × year}}``:
each level takes the first source (catalogue order) that gives it; France is the sum of the
régions only where the catalogue says so (``france: sum_of_regions``, extensive components) and
only in the years where every région of the bundle has a value. The indicators reading them
(``aggregation: published``) are evaluated level by level on these values by the cube
(:mod:`planeco_kernel.indicators.published`); at the other levels they say « disponible à
l'échelle régionale » and never show a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planeco_kernel.indicators.catalogue import Catalogue

TARGETS_SUFFIX = "_targets"
"""``sources/<source_id>_targets.parquet``: the official targets a source gives for its series."""


@dataclass
class Territorial:
    """The territorial components assembled from the bundle's frames."""

    values: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    targets: dict[str, dict] = field(default_factory=dict)
    source_years: dict[str, list[int]] = field(default_factory=dict)

    @property
    def years(self) -> set[int]:
        return {int(y) for v in self.values.values() for df in v.values() for y in df.columns}


def territorial_components(frames: dict[str, pd.DataFrame], catalogue: Catalogue,
                           territories: pd.DataFrame) -> Territorial:
    """``{component: {level: DataFrame}}`` (index: territory code, columns: years) and the targets."""
    out = Territorial()
    regions = territories.loc[territories["level"] == "region", "code"].astype(str).tolist()
    for sid, frame in frames.items():
        if "level" in frame.columns:
            out.source_years[sid] = sorted(int(y) for y in frame["year"].unique())
    for name, comp in catalogue.components.items():
        if not comp.territorial:
            continue
        per_level: dict[str, pd.DataFrame] = {}
        for level in comp.levels:
            for sid in comp.sources:
                frame = frames.get(sid)
                if frame is None or "level" not in frame.columns:
                    continue
                rows = frame[(frame["variable"] == name) & (frame["level"] == level)]
                if len(rows):
                    wide = rows.pivot_table(index="code", columns="year", values="value", aggfunc="first")
                    wide.columns = [int(c) for c in wide.columns]
                    wide.index = wide.index.astype(str)
                    per_level[level] = wide.astype("float64")
                    break
        if "france" in comp.levels and "france" not in per_level and comp.france == "sum_of_regions" \
                and "region" in per_level and regions:
            reg = per_level["region"].reindex(regions)
            complete = reg.notna().all(axis=0)
            total = reg.sum(axis=0, min_count=1).where(complete, np.nan)
            per_level["france"] = pd.DataFrame([total.to_numpy()], index=pd.Index(["FR"], name="code"),
                                               columns=list(reg.columns)).dropna(axis=1)
        if per_level:
            out.values[name] = per_level
        for sid in comp.sources:
            tg = frames.get(f"{sid}{TARGETS_SUFFIX}")
            if tg is not None and name not in out.targets:
                hit = tg[tg["variable"] == name]
                if len(hit):
                    r = hit.sort_values("year").iloc[0]
                    out.targets[name] = {
                        "year": int(r["year"]), "value": float(r["value"]), "source_id": sid,
                        "target_source": None if pd.isna(r["target_source"]) else str(r["target_source"]),
                        "target_url": None if pd.isna(r["target_url"]) else str(r["target_url"]),
                        "series": None if pd.isna(r["series"]) else str(r["series"]),
                    }
    return out
