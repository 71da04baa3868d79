"""Build step of the planning tables: SGPE levers, baromètre indicators and levers, Écolab series, ZAN targets.

Each table is declared in :mod:`planeco_kernel.bundle.schema` (``sgpe_levers``,
``barometre_indicators``, ``barometre_levers``, ``ecolab_series``, ``zan_targets``) and parsed by
its connector (:mod:`~planeco_kernel.sources.sgpe_leviers`, :mod:`~planeco_kernel.sources.sgpe_barometre`,
:mod:`~planeco_kernel.sources.zan_targets`). A source that cannot be obtained is recorded under
``skipped`` with how to get it; the apps then say « non disponible ».

Cross-check at build time: for every year both publish, the sum of the régions' ENAF
consumption (Écolab 611) must equal the national series of the baromètre (sum of its sub-series)
within :data:`ENAF_TOLERANCE`; a mismatch is a manifest warning naming the years.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planeco_kernel.errors import PlanecoError

ENAF_TOLERANCE = 0.001
"""Relative gap allowed between Σ régions (Écolab, ha) and the national series (kha): 0.1 %."""
ENAF_ECOLAB_ID = "611"
ENAF_NATIONAL = "Consommation d'espaces naturels, agricoles et forestiers"


def national_enaf_ha(indicators: pd.DataFrame) -> pd.Series:
    """National yearly ENAF consumption in ha: the sum of the baromètre's sub-series (kha × 1000)."""
    d = indicators[(indicators["indicator"] == ENAF_NATIONAL) & (indicators["kind"] == "value")]
    return d.groupby("year")["value"].sum() * 1000.0


def check_enaf(ecolab: pd.DataFrame, indicators: pd.DataFrame) -> dict[str, Any]:
    """Σ régions vs national series, year by year."""
    reg = ecolab[ecolab["indicator_id"] == ENAF_ECOLAB_ID].groupby("year")["value"].sum()
    nat = national_enaf_ha(indicators)
    years = sorted(set(reg.index) & set(nat.index))
    rows = [{"year": int(y), "regions_ha": round(float(reg[y]), 1), "national_ha": round(float(nat[y]), 1),
             "gap_pct": round(100 * (reg[y] - nat[y]) / nat[y], 3)} for y in years]
    bad = [r["year"] for r in rows if abs(r["gap_pct"]) > 100 * ENAF_TOLERANCE]
    return {"years": rows, "mismatch_years": bad, "tolerance_pct": 100 * ENAF_TOLERANCE}


def build_planning(st, rep, opts, previous: dict | None = None, on_missing=None) -> None:
    """Parse the planning sources into ``st.tables`` and record them in ``st.sources`` / ``st.skipped``.

    A source the previous bundle had and that cannot be read now stops the build (``--force`` to go
    on without it), as for the other optional sources: ``on_missing(st, rep, previous, opts, source,
    reason, fix)`` is the builder's rule for optional sources.
    """
    from planeco_kernel.sources import cerema_lyon, sgpe_barometre, sgpe_leviers, zan_targets
    from planeco_kernel.sources.catalog import info
    from planeco_kernel.sources.fetch import sha256_file

    mirror = opts.mirror
    jobs = [
        ("sgpe_levers", sgpe_leviers.SOURCE_ID, sgpe_leviers.RELEASE,
         lambda: sgpe_leviers.load(mirror=mirror)),
        ("barometre_indicators", sgpe_barometre.SOURCE_ID, sgpe_barometre.INDICATORS,
         lambda: sgpe_barometre.load_indicators(mirror=mirror)),
        ("barometre_levers", sgpe_barometre.SOURCE_ID, sgpe_barometre.LEVERS,
         lambda: sgpe_barometre.load_levers(mirror=mirror)),
        ("barometre_commitments", sgpe_barometre.SOURCE_ID, sgpe_barometre.COMMITMENTS,
         lambda: sgpe_barometre.load_commitments(mirror=mirror)),
        ("ecolab_series", sgpe_barometre.ECOLAB_SOURCE_ID, sgpe_barometre.ECOLAB_MANIFEST,
         lambda: sgpe_barometre.load_ecolab(mirror=mirror)),
        ("zan_targets", zan_targets.SOURCE_ID, zan_targets.RELEASE,
         lambda: zan_targets.load(mirror=mirror)),
        ("lyon_flows", cerema_lyon.SOURCE_ID, cerema_lyon.RELEASE,
         lambda: cerema_lyon.flows_table(cerema_lyon.load(mirror=mirror))),
    ]
    with rep.step("Planification : leviers SGPE, baromètre, Écolab, objectifs ZAN"):
        for table, source, rel, load in jobs:
            src = info(source)
            try:
                df = load()
            except PlanecoError as exc:
                fix = f"Fournissez le miroir (--mirror / PLANECO_MIRROR) contenant {rel.mirror_path}."
                if any(s.get("source") == source for s in st.skipped):
                    continue
                if on_missing is not None:
                    on_missing(st, rep, previous, opts, source, str(exc), fix)
                else:
                    rep.warn(f"Source « {source} » ignorée : {exc}")
                    st.skipped.append({"source": source, "reason": str(exc), "fix": fix})
                continue
            st.tables[table] = df
            path = (mirror / rel.mirror_path) if mirror is not None and rel.mirror_path else None
            st.sources.append({
                "name": source, "title": src.title, "file": rel.mirror_path, "version": src.vintage_text,
                "origin": path.as_uri() if path is not None and path.is_file() else rel.url,
                "sha256": sha256_file(path) if path is not None and path.is_file() else None,
                "licence": src.licence, "publisher": src.publisher, "homepage": src.homepage, "rows": len(df),
                "table": table,
            })
        if "ecolab_series" in st.tables and "barometre_indicators" in st.tables:
            check = check_enaf(st.tables["ecolab_series"], st.tables["barometre_indicators"])
            st.planning_checks = {"enaf_regions_vs_national": check}
            if check["mismatch_years"]:
                rep.warn("Consommation d'ENAF : la somme des régions (Écolab) diffère de la série nationale du "
                         f"baromètre de plus de {check['tolerance_pct']} % pour {check['mismatch_years']}.")
