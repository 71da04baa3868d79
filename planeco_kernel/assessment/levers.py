"""The COP levers of the SGPE « simulateur territorial »: id, name, sector, physical unit.

Source: Secrétariat général à la planification écologique (SGPE), simulateur territorial of
the regional COPs, ``src/lib/assets/data.json`` of MTES-MCT/planification-territoires (commit
677f09e, 2024-10-10), Licence Ouverte 2.0. ``planeco data build`` parses it into the bundle table
``sgpe_levers`` (one row per region × lever, :mod:`planeco_kernel.bundle.planning`); only the
vocabulary is read here (ids, names, sectors, physical units): the numbers of the regional
targets belong to the COP trajectory module (:mod:`planeco_kernel.trajectories`).

:func:`load_levers` says how to fix a bundle without the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from planeco_kernel.errors import ConfigError

TABLE = "sgpe_levers"
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


def _table_file(data_dir: str | Path | None) -> Path:
    from planeco_kernel.bundle.reader import open_bundle
    from planeco_kernel.errors import BundleError

    try:
        p = open_bundle(data_dir).path(TABLE)
    except BundleError as exc:
        raise ConfigError(f"Leviers SGPE indisponibles : {exc}") from None
    if not p.is_file():
        raise ConfigError(
            f"Le paquet de données ne contient pas la liste des leviers SGPE (table « {TABLE} », {p.name}). "
            "Relancez `planeco data build` avec le miroir des sources (--mirror / PLANECO_MIRROR, dossier contenant sgpe/)."
        )
    return p


@lru_cache(maxsize=4)
def _load(path: str, _stamp: float) -> dict[str, Lever]:
    import pandas as pd

    rows = pd.read_parquet(path, columns=["region_code", "lever_id", "lever_name", "sector", "group", "unit_phys"])
    out: dict[str, Lever] = {}
    for r in rows.sort_values(["lever_id", "region_code"], kind="stable").itertuples(index=False):
        lid = str(r.lever_id or "")
        if lid and lid not in out:
            unit = "" if pd.isna(r.unit_phys) else " ".join(str(r.unit_phys).split())
            out[lid] = Lever(lid, str(r.lever_name or lid), str(r.sector or ""), str(r.group or ""), unit)
    return out


def load_levers(data_dir: str | Path | None = None) -> dict[str, Lever]:
    """All levers by id (42 in the 2024-10-10 file), from the data bundle (default ``PLANECO_DATA_DIR``).

    Raises
    ------
    ConfigError
        When there is no bundle or it lacks the ``sgpe_levers`` table (French message saying how to fix it).
    """
    p = _table_file(data_dir)
    return _load(str(p.resolve()), p.stat().st_mtime)


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
