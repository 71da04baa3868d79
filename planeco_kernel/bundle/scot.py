"""The SCoT layer: "structures porteuses de SCoT (BANATIC)", or the user's own perimeters.

Rules
-----
1. A *SCoT structure* is a groupement that is not an EPCI à fiscalité propre (syndicat mixte
   fermé/ouvert, PETR, pôle métropolitain, SIVOM…) and holds the SCoT competence. Its members
   are resolved recursively: a member EPCI is an EPCI member; a member syndicat contributes its
   own members (nested membership); a commune is a commune member. A membership cycle raises a
   clear error.
2. An EPCI that holds the competence and belongs to no SCoT structure carries its own SCoT.
3. An EPCI is in at most one SCoT. When several structures claim it, the winner is, in order: a
   syndicat mixte/PETR over a pôle métropolitain/SIVOM, the structure with fewer EPCI members
   (the more specific perimeter), the smallest SIREN. Every conflict is recorded.
4. A commune is in the SCoT of its EPCI; a commune listed directly by a structure (and whose
   EPCI is in no SCoT) is a commune member of it.
5. Reviewed corrections (:data:`CORRECTIONS_FILE`, ``data/scot_corrections.csv``: ``epci_siren,
   excluded_structure_siren, reason, source``) remove a structure's claim on an EPCI before rule 3.
   BANATIC lists competences per syndicat, not per member: a syndicat that holds the SCoT
   competence may count among its members an EPCI that carries its own SCoT or belongs to
   another one (the SM du bassin de Thau and Montpellier Méditerranée Métropole). Each correction
   names its public justification; applied and unused ones are recorded in the manifest.
6. User perimeters (same two-file format) take precedence over everything: every EPCI or commune
   they assign is taken away from the BANATIC structures (``source = "user"``).

For review only (never applied automatically), :func:`suspects` lists the structures whose
known EPCI members all hold the SCoT competence themselves, when there are more than one.

Holding the competence does not prove that an approved SCoT exists: the layer is labelled
:data:`LAYER_LABEL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources.banatic import EPCI_NATURES, Groupements

LAYER_LABEL = "structures porteuses de SCoT (BANATIC)"
USER_LABEL = "périmètres de SCoT fournis par l'utilisateur"
CORRECTIONS_FILE = Path(__file__).resolve().parents[2] / "data" / "scot_corrections.csv"
"""Reviewed corrections of the BANATIC layer, kept in the repository (``data/``)."""
CORRECTION_COLUMNS = ("epci_siren", "excluded_structure_siren", "reason", "source")
_PREFERRED = {"SMF": 0, "SMO": 0, "PETR": 0, "POLEM": 1, "SIVOM": 1, "SIVU": 1, "EPT": 2}


@dataclass
class ScotLayer:
    """Result of the resolution."""

    structures: pd.DataFrame
    """One row per SCoT: scot_code, name, nature, source."""
    members: pd.DataFrame
    """``scot_members`` rows: scot_code, member_code, member_level, source."""
    conflicts: list[dict] = field(default_factory=list)
    unmatched: dict[str, list[str]] = field(default_factory=dict)
    label: str = LAYER_LABEL
    corrections: list[dict] = field(default_factory=list)
    """Reviewed corrections (rule 5), each with ``applied``."""


def resolve_members(g: Groupements, siren: str, _path: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
    """(EPCI SIRENs, commune codes) of one groupement, nested syndicats resolved.

    Raises
    ------
    SchemaError
        On a membership cycle (the message shows the cycle).
    """
    if siren in _path:
        cycle = " → ".join(_path[_path.index(siren):] + (siren,))
        raise SchemaError(f"Cycle d'adhésion entre groupements : {cycle}. Corrigez groupements_membres.csv.")
    natures, by_group = _index(g)
    epcis: set[str] = set()
    communes: set[str] = set()
    for member, kind in by_group.get(siren, ()):
        if kind == "commune":
            communes.add(member)
        elif natures.get(member) in EPCI_NATURES or (member not in natures and member not in by_group):
            epcis.add(member)  # an EPCI, or a groupement BANATIC does not describe (checked against the COG)
        else:
            e, c = resolve_members(g, member, _path + (siren,))
            epcis |= e
            communes |= c
    return epcis, communes


def _index(g: Groupements) -> tuple[dict[str, str], dict[str, list[tuple[str, str]]]]:
    cache = getattr(g, "_index_cache", None)
    if cache is None:
        natures = dict(zip(g.groupements["siren"], g.groupements["nature_juridique"]))
        by_group: dict[str, list[tuple[str, str]]] = {}
        for grp, member, kind in zip(g.members["siren_groupement"], g.members["membre"], g.members["type_membre"]):
            by_group.setdefault(grp, []).append((member, kind))
        cache = (natures, by_group)
        object.__setattr__(g, "_index_cache", cache)
    return cache


def read_corrections(path: Path = CORRECTIONS_FILE) -> pd.DataFrame:
    """Read and check the reviewed corrections file (rule 5).

    Raises
    ------
    SchemaError
        Missing file or column, a SIREN that is not 9 digits, an empty reason or source, a
        duplicated (epci_siren, excluded_structure_siren) pair.
    """
    if not path.is_file():
        raise SchemaError(f"{path} : fichier de corrections SCoT introuvable (colonnes attendues : "
                          f"{', '.join(CORRECTION_COLUMNS)}). Restaurez data/scot_corrections.csv du dépôt.")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in CORRECTION_COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(f"{path.name} : colonnes manquantes {missing} (colonnes attendues : "
                          f"{', '.join(CORRECTION_COLUMNS)}).")
    df = df[list(CORRECTION_COLUMNS)].apply(lambda col: col.str.strip())
    for col in ("epci_siren", "excluded_structure_siren"):
        bad = df.loc[~df[col].str.fullmatch(r"\d{9}"), col].tolist()
        if bad:
            raise SchemaError(f"{path.name} : SIREN invalides dans {col} : {bad[:5]} (9 chiffres attendus).")
    for col in ("reason", "source"):
        empty = df.index[df[col] == ""].tolist()
        if empty:
            raise SchemaError(f"{path.name} : colonne {col} vide aux lignes {[i + 2 for i in empty[:5]]} ; "
                              "chaque correction doit être motivée et sourcée.")
    dup = df[df.duplicated(["epci_siren", "excluded_structure_siren"])]
    if len(dup):
        raise SchemaError(f"{path.name} : corrections en double {dup['epci_siren'].tolist()[:5]}.")
    return df.reset_index(drop=True)


def suspects(g: Groupements, epci_communes: dict[str, list[str]]) -> list[dict[str, object]]:
    """Structures with the SCoT competence whose known member EPCIs (two or more) all hold it too.

    BANATIC cannot tell whether such a syndicat carries the SCoT of its members or only another
    competence: listed in the manifest for review, never changed automatically.
    """
    gr = g.groupements
    comp = dict(zip(gr["siren"], gr["competence_scot"]))
    name = dict(zip(gr["siren"], gr["nom"]))
    out = []
    for siren in sorted(gr.loc[gr["competence_scot"] & ~gr["nature_juridique"].isin(EPCI_NATURES), "siren"]):
        epcis = sorted(e for e in resolve_members(g, siren)[0] if e in epci_communes)
        if len(epcis) > 1 and all(comp.get(e, False) for e in epcis):
            out.append({"structure": siren, "name": name[siren], "epci": epcis})
    return out


def build_layer(g: Groupements, epci_communes: dict[str, list[str]], commune_epci: dict[str, str],
                communes: set[str], successor: dict[str, str] | None = None,
                source: str = "banatic", corrections: pd.DataFrame | None = None) -> ScotLayer:
    """Resolve the SCoT layer of one source against the current EPCIs and communes.

    Parameters
    ----------
    epci_communes
        Current EPCI SIREN → member commune codes (COG).
    commune_epci
        Current commune code → EPCI SIREN (communes without EPCI absent).
    communes
        All current commune codes.
    successor
        Old commune code → current commune code (from ``code_history``), used for commune
        members that BANATIC lists under a former code.
    corrections
        Reviewed exclusions (:func:`read_corrections`, rule 5); the result's ``corrections``
        lists each one with ``applied`` (whether the structure claimed that EPCI).
    """
    successor = successor or {}
    excluded = set()
    if corrections is not None:
        excluded = set(zip(corrections["epci_siren"], corrections["excluded_structure_siren"]))
    gr = g.groupements
    structures = gr[gr["competence_scot"] & ~gr["nature_juridique"].isin(EPCI_NATURES)]
    claims: dict[str, list[str]] = {}
    direct_communes: dict[str, set[str]] = {}
    unmatched_epci: set[str] = set()
    unmatched_communes: set[str] = set()
    epci_count: dict[str, int] = {}
    applied: set[tuple[str, str]] = set()
    for siren in sorted(structures["siren"]):
        epcis, communes_of = resolve_members(g, siren)
        known = {e for e in epcis if e in epci_communes}
        unmatched_epci |= epcis - known
        epci_count[siren] = len(known)
        for e in known:
            if (e, siren) in excluded:
                applied.add((e, siren))
                continue
            claims.setdefault(e, []).append(siren)
        direct_communes[siren] = set()
        for c in communes_of:
            c = c if c in communes else successor.get(c, c)
            if c in communes:
                direct_communes[siren].add(c)
            else:
                unmatched_communes.add(c)
    nature = dict(zip(gr["siren"], gr["nature_juridique"]))
    conflicts = []
    epci_scot: dict[str, str] = {}
    for e, sirens in sorted(claims.items()):
        ranked = sorted(set(sirens), key=lambda s: (_PREFERRED.get(nature.get(s, ""), 3), epci_count[s], s))
        epci_scot[e] = ranked[0]
        if len(ranked) > 1:
            conflicts.append({"member": e, "level": "epci", "candidates": ranked, "chosen": ranked[0],
                              "rule": "syndicat mixte/PETR > pôle métropolitain/SIVOM, puis périmètre le plus petit, puis SIREN"})
    own = gr[gr["competence_scot"] & gr["nature_juridique"].isin(EPCI_NATURES)]
    for e in sorted(own["siren"]):
        if e not in epci_communes:
            unmatched_epci.add(e)
        elif e not in epci_scot:
            epci_scot[e] = e
    rows = [{"scot_code": s, "member_code": e, "member_level": "epci", "source": source}
            for e, s in epci_scot.items()]
    commune_scot_direct: dict[str, str] = {}
    for s in sorted(direct_communes):
        for c in sorted(direct_communes[s]):
            e = commune_epci.get(c)
            if e is not None and e in epci_scot:
                if epci_scot[e] != s:
                    conflicts.append({"member": c, "level": "commune", "candidates": [epci_scot[e], s],
                                      "chosen": epci_scot[e], "rule": "la commune suit le SCoT de son EPCI"})
                continue
            if c in commune_scot_direct and commune_scot_direct[c] != s:
                conflicts.append({"member": c, "level": "commune", "candidates": [commune_scot_direct[c], s],
                                  "chosen": commune_scot_direct[c], "rule": "premier SIREN"})
                continue
            commune_scot_direct[c] = s
    rows += [{"scot_code": s, "member_code": c, "member_level": "commune", "source": source}
             for c, s in commune_scot_direct.items()]
    members = pd.DataFrame(rows, columns=["scot_code", "member_code", "member_level", "source"])
    used = set(members["scot_code"])
    st = gr[gr["siren"].isin(used)][["siren", "nom", "nature_juridique"]].rename(
        columns={"siren": "scot_code", "nom": "name", "nature_juridique": "nature"})
    st = st.assign(source=source).sort_values("scot_code").reset_index(drop=True)
    applied_rows = [] if corrections is None else [
        {**r, "applied": (r["epci_siren"], r["excluded_structure_siren"]) in applied}
        for r in corrections.to_dict("records")]
    return ScotLayer(st, members.sort_values(["scot_code", "member_code"]).reset_index(drop=True), conflicts,
                     {"epci": sorted(unmatched_epci), "communes": sorted(unmatched_communes)},
                     LAYER_LABEL if source == "banatic" else USER_LABEL, applied_rows)


def merge_user(base: ScotLayer, user: ScotLayer, commune_epci: dict[str, str]) -> ScotLayer:
    """Overlay user perimeters on the BANATIC layer: user assignments win."""
    u_epci = set(user.members.loc[user.members["member_level"] == "epci", "member_code"])
    u_com = set(user.members.loc[user.members["member_level"] == "commune", "member_code"])
    b = base.members
    keep = ~((b["member_level"] == "epci") & b["member_code"].isin(u_epci))
    keep &= ~((b["member_level"] == "commune") & (b["member_code"].isin(u_com)
                                                  | b["member_code"].map(commune_epci).isin(u_epci)))
    members = pd.concat([user.members, b[keep]], ignore_index=True)
    # a user structure with the same SIREN as a BANATIC one replaces it entirely
    members = members[~((members["source"] == "banatic") & members["scot_code"].isin(set(user.structures["scot_code"])))]
    used = set(members["scot_code"])
    structures = pd.concat([user.structures, base.structures[~base.structures["scot_code"].isin(user.structures["scot_code"])]])
    structures = structures[structures["scot_code"].isin(used)].sort_values("scot_code").reset_index(drop=True)
    return ScotLayer(structures, members.sort_values(["scot_code", "member_code"]).reset_index(drop=True),
                     base.conflicts + user.conflicts,
                     {"epci": sorted(set(base.unmatched["epci"]) | set(user.unmatched["epci"])),
                      "communes": sorted(set(base.unmatched["communes"]) | set(user.unmatched["communes"]))},
                     f"{USER_LABEL}, complétés par les {LAYER_LABEL}", base.corrections)


def commune_scot(layer: ScotLayer, commune_epci: dict[str, str], communes: list[str]) -> dict[str, str]:
    """Current commune code → SCoT code (through its EPCI, else direct membership)."""
    m = layer.members
    epci_scot = dict(zip(m.loc[m["member_level"] == "epci", "member_code"], m.loc[m["member_level"] == "epci", "scot_code"]))
    direct = dict(zip(m.loc[m["member_level"] == "commune", "member_code"], m.loc[m["member_level"] == "commune", "scot_code"]))
    out = {}
    for c in communes:
        e = commune_epci.get(c)
        s = epci_scot.get(e) if e is not None else None
        if s is None:
            s = direct.get(c)
        if s is not None:
            out[c] = s
    return out
