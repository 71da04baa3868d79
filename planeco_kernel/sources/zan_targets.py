"""Territorialised ZAN targets of Hauts-de-France: SRADDET, SCoT and EPCI reduction rates.

Source: MTES-MCT/sparte (« Mon diagnostic artificialisation »), commit baa2137,
``public_data/fixtures/territorialisation_objectif.json`` (mirror ``zan/
objectifs_territorialises_hauts_de_france.json``), Licence Ouverte 2.0.

Layout: a Django fixture, a JSON list of ``{"model": "public_data.territorialisationobjectif",
"pk": …, "fields": {land, parent, objectif_de_reduction, nom_document, is_in_document,
document_url, document_comment}}``; ``land`` and ``parent`` are ``REGION_<code>``,
``SCOT_<sparte id>``, ``EPCI_<siren>`` or ``CUSTOM_SCOT_<NAME>``; ``objectif_de_reduction`` is the
reduction of 2021–2030 consumption versus 2011–2020 in %, as a decimal string (``"54.47"``).

Meaning of ``is_in_document`` (sparte): whether the territory's own planning document already
writes the target. planeco marks such a target « réglementaire »; a target set for the territory
by its parent document (the SRADDET's territorialisation) but not yet in its own document is
« suggéré ».

What was not verified: sparte's SCoT ids (``SCOT_10394``) are its own and the mirror holds no
crosswalk to the SIREN of the SCoT's structure porteuse (BANATIC); those targets are kept with
their sparte id and reach a SCoT of the territory model only through a declared crosswalk
(:func:`planeco_kernel.trajectories.targets.TargetBook`). EPCI ids are SIRENs and région ids
INSEE codes: they match directly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "zan_targets"
RELEASE = Release(
    SOURCE_ID, 2024,
    "https://raw.githubusercontent.com/MTES-MCT/sparte/baa2137/public_data/fixtures/territorialisation_objectif.json",
    "territorialisation_objectif.json", mirror_path="zan/objectifs_territorialises_hauts_de_france.json",
)

_LAND = re.compile(r"(REGION|SCOT|EPCI|CUSTOM_SCOT)_(\w+)")
LAND_LEVELS = {"REGION": "region", "SCOT": "scot_sparte", "EPCI": "epci", "CUSTOM_SCOT": "scot_sparte"}
COLUMNS = ("land_id", "land_level", "land_code", "parent_id", "reduction_pct", "document", "in_document",
           "status", "document_url", "document_comment")


def _land(value: str | None, where: str) -> tuple[str, str] | None:
    if value is None:
        return None
    m = _LAND.fullmatch(str(value))
    if not m:
        raise SchemaError(f"{where}: identifiant de territoire « {value} » inconnu (attendu REGION_, SCOT_, EPCI_…).")
    kind, code = m.groups()
    if kind == "EPCI" and not re.fullmatch(r"\d{9}", code):
        raise SchemaError(f"{where}: SIREN d'EPCI invalide « {code} ».")
    return LAND_LEVELS[kind], code


def parse(path: Path) -> pd.DataFrame:
    """One row per territory with a target; ``status`` is ``réglementaire`` or ``suggéré``."""
    name = RELEASE.filename
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{name}: JSON illisible ({exc}).") from exc
    if not isinstance(raw, list):
        raise SchemaError(f"{name}: attendu une liste d'objets (fixture Django).")
    rows = []
    for i, rec in enumerate(raw, start=1):
        where = f"{name}, objet n° {i}"
        f = rec.get("fields") if isinstance(rec, dict) else None
        if not isinstance(f, dict):
            raise SchemaError(f"{where}: « fields » absent.")
        missing = [k for k in ("land", "parent", "objectif_de_reduction", "nom_document", "is_in_document") if k not in f]
        if missing:
            raise SchemaError(f"{where}: champs manquants {missing}.")
        land = _land(f["land"], where)
        if land is None:
            raise SchemaError(f"{where}: « land » vide.")
        level, code = land
        _land(f["parent"], where)
        try:
            pct = float(str(f["objectif_de_reduction"]))
        except ValueError as exc:
            raise SchemaError(f"{where}: objectif « {f['objectif_de_reduction']} » illisible.") from exc
        if not 0 <= pct <= 100:
            raise SchemaError(f"{where}: objectif de réduction {pct} % hors de [0, 100].")
        in_doc = bool(f["is_in_document"])
        rows.append({
            "land_id": f["land"], "land_level": level, "land_code": code, "parent_id": f["parent"],
            "reduction_pct": pct, "document": str(f["nom_document"]).strip(), "in_document": in_doc,
            "status": "réglementaire" if in_doc else "suggéré",
            "document_url": f.get("document_url") or None, "document_comment": (f.get("document_comment") or "").strip() or None,
        })
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    if df["land_id"].duplicated().any():
        raise SchemaError(f"{name}: territoires en double {df.loc[df['land_id'].duplicated(), 'land_id'].tolist()}")
    for c in COLUMNS:
        if c not in ("reduction_pct", "in_document"):
            df[c] = df[c].astype("string")
    return df


def load(*, mirror: str | Path | None = None, url: str | None = None, cache=None) -> pd.DataFrame:
    from planeco_kernel.sources import identity

    artifact = base.obtain(RELEASE, mirror=mirror, url=url, cache=cache)
    identity.verify(url or str(RELEASE.mirror_path), artifact.sha256, where=RELEASE.filename)
    return parse(artifact.path)
