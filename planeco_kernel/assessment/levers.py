"""The COP levers of the SGPE « simulateur territorial »: id, name, sector, physical unit.

Source: Secrétariat général à la planification écologique (SGPE), simulateur territorial of
the regional COPs, ``src/lib/assets/data.json`` of MTES-MCT/planification-territoires (commit
677f09e, 2024-10-10), Licence Ouverte 2.0; mirrored as
``sgpe/simulateur_territorial/leviers_regionaux.json`` (one row per region × lever). Only the
vocabulary is read here (ids, names, sectors, ``unitPhys``): the numbers of the regional targets
belong to the COP trajectory module.

The file is found in the offline mirror (``PLANECO_MIRROR``, else the ``shared/data`` folder
beside the checkout) or given explicitly; :func:`load_levers` says how to fix a missing file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from planeco_kernel.errors import ConfigError

RELPATH = "sgpe/simulateur_territorial/leviers_regionaux.json"
SOURCE_LABEL = "SGPE, simulateur territorial des COP régionales (planification-territoires, 2024-10-10)"
KTCO2E = "ktCO2e"


@dataclass(frozen=True)
class Lever:
    """One SGPE lever."""

    id: str
    name: str
    sector: str
    group: str
    unit_phys: str

    @property
    def units(self) -> tuple[str, ...]:
        """Units a commitment on this lever may use: ktCO2e, or the lever's physical unit."""
        return (KTCO2E, self.unit_phys) if self.unit_phys else (KTCO2E,)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.sector})"


def levers_file(path: str | Path | None = None) -> Path:
    """The levers file: ``path``, else in the mirror.

    Raises
    ------
    ConfigError
        When no mirror holds the file.
    """
    from planeco_kernel import config

    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"Fichier des leviers SGPE introuvable : « {p} ».")
        return p
    candidates = [m for m in [config.mirror_dir()] if m is not None] + config.default_mirror_candidates()
    for base in candidates:
        p = Path(base) / RELPATH
        if p.is_file():
            return p
    raise ConfigError(
        f"Liste des leviers SGPE introuvable ({RELPATH}). Indiquez le miroir de données avec PLANECO_MIRROR "
        "(dossier contenant sgpe/)."
    )


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Lever]:
    rows = json.loads(Path(path).read_text("utf-8"))
    out: dict[str, Lever] = {}
    for r in rows:
        if r.get("regionName") == "Région exemple" or not r.get("id"):
            continue
        lid = str(r["id"])
        if lid not in out:
            out[lid] = Lever(lid, str(r.get("leverName") or lid), str(r.get("sector") or ""), str(r.get("group") or ""),
                             " ".join(str(r.get("unitPhys") or "").split()))
    return out


def load_levers(path: str | Path | None = None) -> dict[str, Lever]:
    """All levers by id (42 in the 2024-10-10 file)."""
    return _load(str(levers_file(path).resolve()))


def normalise_unit(lever: Lever, unit: str) -> str | None:
    """``unit`` as stored (``ktCO2e`` or the lever's full physical unit); None if it fits neither.

    Accepts ``ktCO2e`` in any case and with ``₂``, and the physical unit with or without its
    « (en 2030 …) » suffix.
    """
    u = " ".join(str(unit or "").split())
    if u.replace("₂", "2").lower() in {"ktco2e", "kt co2e", "ktco2eq"}:
        return KTCO2E
    if lever.unit_phys and u and (u == lever.unit_phys or lever.unit_phys.startswith(u) and len(u) >= 8):
        return lever.unit_phys
    return None
