"""The objects handed out by the territory model: :class:`Territory` and :class:`Resolution`.

A :class:`Territory` is a light view on one row of :class:`~planeco_kernel.territory.model.TerritoryModel`;
its figures and relations are read from the model's store (:mod:`planeco_kernel.territory.store`) on
access, its members and contour through :mod:`planeco_kernel.territory.proximity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planeco_kernel.bundle.schema import FRANCE_CODE, LEVEL_LABELS_FR, LEVELS
from planeco_kernel.levels import RANK as _RANK
from planeco_kernel.territory import codes
from planeco_kernel.territory.proximity import geometry as proximity_geometry
from planeco_kernel.territory.proximity import member_rows
from planeco_kernel.territory.store import PARENT_COLUMNS

if TYPE_CHECKING:
    from planeco_kernel.territory.model import TerritoryModel

RANK: dict[str, int] = _RANK
"""Position of each level, smallest first."""


@dataclass(frozen=True)
class Resolution:
    """The result of :meth:`TerritoryModel.resolve`: a territory and, when something was assumed, a note.

    Attributes
    ----------
    territory : Territory
        The territory found.
    note : str or None
        French explanation when the input was ambiguous, an old code, a misspelling, etc.
    matched_by : str
        How the input was understood: ``key``, ``code``, ``siren``, ``old_code``, ``arrondissement``,
        ``name``, ``name_prefix``, ``name_word``, ``name_fuzzy``.
    """

    territory: Territory
    note: str | None = None
    matched_by: str = "code"

    def to_dict(self) -> dict[str, Any]:
        """The territory's :meth:`Territory.to_dict`, plus ``note`` when there is one."""
        d = self.territory.to_dict()
        if self.note:
            d["note"] = self.note
        return d


class Territory:
    """One territory (commune, EPCI, SCoT, département, région or France) of the current geography.

    Instances are light views on a row of the model; compare equal by :attr:`key`.

    The public protocol — everything code outside :mod:`planeco_kernel.territory` may use
    (``tests/test_territory_protocol.py`` fails on any reach-in to a private attribute):

    - identity: :attr:`code`, :attr:`level`, :attr:`name`, :attr:`key`, :attr:`level_label`,
      :attr:`nature`, :attr:`flags`, :meth:`label`;
    - figures: :attr:`population`, :attr:`population_sources`, :attr:`population_flags`,
      :attr:`population_latest`, :attr:`members_count`;
    - hierarchy: :attr:`parents`, :meth:`parent`, :meth:`members`;
    - geometry: :meth:`geometry`;
    - export: :meth:`to_dict`.

    The model behind it is :class:`~planeco_kernel.territory.model.TerritoryModel` (its public
    methods: ``get``, ``resolve``, ``search``, ``within``, ``nearby``, ``levels``, ``name_of``,
    ``territories``, ``history``, ``predecessors``, ``scot_members``, and ``bundle``,
    ``data_dir``, ``manifest``).
    """

    __slots__ = ("_i", "_m")

    def __init__(self, model: TerritoryModel, row: int):
        self._m = model
        self._i = row

    # -- identity -----------------------------------------------------------------------------
    @property
    def code(self) -> str:
        """INSEE code (commune, département, région), SIREN (EPCI, SCoT) or ``FR``."""
        return self._m.store.codes[self._i]

    @property
    def level(self) -> str:
        """One of :data:`~planeco_kernel.bundle.schema.LEVELS`."""
        return self._m.store.levels[self._i]

    @property
    def name(self) -> str:
        """Official name."""
        return self._m.store.value("name", self._i)

    @property
    def key(self) -> str:
        """Canonical key ``"level:code"``, unique across levels."""
        return f"{self.level}:{self.code}"

    @property
    def level_label(self) -> str:
        """French label of the level (``"Intercommunalité (EPCI)"``…)."""
        return LEVEL_LABELS_FR[self.level]

    @property
    def nature(self) -> str | None:
        """Legal nature (CC, CA, CU, METRO, SMF, PETR…) for EPCI and SCoT; ``None`` otherwise."""
        return self._m.store.value("nature", self._i) or None

    @property
    def flags(self) -> tuple[str, ...]:
        """Data flags from the bundle (``no_epci``, ``merged``, ``no_geometry``…)."""
        raw = self._m.store.value("flags", self._i)
        return tuple(f.strip() for f in raw.split(",") if f.strip()) if raw else ()

    # -- figures ------------------------------------------------------------------------------
    @property
    def population(self) -> dict[int, int]:
        """Population municipale by census year (``population`` table); missing years omitted."""
        series = self._m.store.population().values(self._i)
        if series is not None:
            return series
        y, v = self._m.store.value("census_year", self._i), self._m.store.value("population", self._i)
        return {int(y): int(v)} if y is not None and v is not None else {}

    @property
    def population_sources(self) -> dict[int, str]:
        """Source file and version of each census year's figure (``"communes.json@5.3.0"``)."""
        return self._m.store.population().sources(self._i)

    @property
    def population_flags(self) -> dict[int, str]:
        """Flags of the population figures (``merged_sum``, ``split_unallocated``…), when any."""
        return self._m.store.population().flags(self._i)

    @property
    def population_latest(self) -> tuple[int, int] | None:
        """``(census_year, inhabitants)`` of the most recent figure, or ``None``."""
        pop = self.population
        if not pop:
            return None
        year = max(pop)
        return year, pop[year]

    @property
    def members_count(self) -> int:
        """Number of member communes (1 for a commune)."""
        return int(self._m.store.value("members_count", self._i))

    # -- hierarchy ----------------------------------------------------------------------------
    @property
    def parents(self) -> dict[str, str]:
        """Code of the territory at each level above this one (``"france": "FR"`` included)."""
        out: dict[str, str] = {}
        rank = RANK[self.level]
        for lvl in LEVELS[rank + 1 :]:
            if lvl == "france":
                out[lvl] = FRANCE_CODE
                continue
            value = self._m.store.value(PARENT_COLUMNS[lvl], self._i)
            if value:
                out[lvl] = value
        return out

    def parent(self, level: str) -> Territory | None:
        """The territory containing this one at ``level``, or ``None`` (no EPCI, no SCoT…)."""
        lvl = codes.parse_level(level)
        code = self.parents.get(lvl) if lvl is not None else None
        if lvl is None or code is None:
            return None
        row = self._m.store.row_of(lvl, code)
        return Territory(self._m, row) if row is not None else None

    def members(self, level: str = "commune") -> list[Territory]:
        """Territories of ``level`` inside this one (communes of an EPCI, EPCI of a SCoT…), by code."""
        return [Territory(self._m, r) for r in member_rows(self._m.store, self._i, codes.parse_level(level) or "commune")]

    # -- geometry -----------------------------------------------------------------------------
    def geometry(self, display: bool = True):
        """The contour as a shapely geometry (WGS84), or ``None`` when the bundle has none.

        Parameters
        ----------
        display : bool
            ``True``: the simplified display contour (``geometry/display.parquet``, every level);
            ``False``: the full contour of a commune (``geometry/communes.parquet``). Other levels
            only have the display contour, which is returned in both cases.
        """
        return proximity_geometry(self._m.store, self.level, self.code, display)

    # -- export -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (the CLI's ``--json``): identity, population, parents, members."""
        latest = self.population_latest
        parents = self.parents
        return {
            "key": self.key,
            "code": self.code,
            "level": self.level,
            "level_label": self.level_label,
            "name": self.name,
            "nature": self.nature,
            "flags": list(self.flags),
            "population": {str(y): v for y, v in sorted(self.population.items())},
            "population_latest": {"census_year": latest[0], "population": latest[1]} if latest else None,
            "population_sources": {str(y): s for y, s in sorted(self.population_sources.items())},
            "parents": parents,
            "parent_names": {lvl: self._m.name_of(lvl, c) for lvl, c in parents.items()},
            "members_count": self.members_count,
        }

    def label(self) -> str:
        """Short French label for lists: ``"Saint-Denis (commune 93066, Seine-Saint-Denis)"``."""
        return self._m.resolver.label(self._i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Territory) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Territory({self.key} {self.name!r})"
