"""The territory model: every territory of the current geography, read from the data bundle.

:func:`load_model` opens the bundle's :class:`~planeco_kernel.territory.store.TerritoryStore` (only
``territories.parquet`` up front: a few milliseconds), caches the model per data directory and
reloads it when the build stamp (``manifest.json``, ``territories.parquet``) changes. Everything
else (names, populations, code history, members, geometries) is read and indexed on first use.

The model is a thin façade over four modules: :mod:`~planeco_kernel.territory.store` (tables and
the one cache), :mod:`~planeco_kernel.territory.resolution` (codes and names to rows),
:mod:`~planeco_kernel.territory.wording` (the French notes) and
:mod:`~planeco_kernel.territory.proximity` (members, neighbours, contours).

Look-ups:

- :meth:`TerritoryModel.get` — exact, by code (INSEE code, SIREN, ``FR``) or canonical key
  ``"level:code"``; a bare ``"75"`` is the département (``get("75", level="region")`` for the
  région).
- :meth:`TerritoryModel.resolve` — anything a user may type: a code, a key, the old code of a
  merged commune (resolved to its successor), or a name; returns a :class:`Resolution` whose
  ``note`` (in French) says what was assumed.
- :meth:`TerritoryModel.search` — ranked search by name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planeco_kernel.bundle.reader import Bundle, open_bundle
from planeco_kernel.bundle.schema import LEVELS
from planeco_kernel.territory import codes, proximity
from planeco_kernel.territory.objects import Resolution, Territory
from planeco_kernel.territory.resolution import FUZZY_ACCEPT, FUZZY_MARGIN, Resolver
from planeco_kernel.territory.store import TerritoryStore, pandas_types

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FUZZY_ACCEPT", "FUZZY_MARGIN", "Resolution", "Territory", "TerritoryModel", "clear_cache", "load_model"]


class TerritoryModel:
    """All territories of a data bundle, with look-ups by code, key and name.

    Build it with :func:`load_model`. Only ``territories.parquet`` is read up front; the other
    tables are read on first use.

    Parameters
    ----------
    data_dir : Path or Bundle
        The bundle (directory).
    use_index : bool
        Read the territories and their populations from the bundle's territory index
        (:mod:`planeco_kernel.bundle.territory_index`: SQLite, no pyarrow import) when it is there
        and agrees with the manifest; the Parquet tables otherwise. For the command line's
        look-ups; tables and contours are read from the Parquet files either way.
    """

    def __init__(self, data_dir: Path | Bundle, *, use_index: bool = False):
        self.bundle = data_dir if isinstance(data_dir, Bundle) else Bundle(data_dir)
        self.data_dir = self.bundle.data_dir
        index = None
        if use_index:
            from planeco_kernel.bundle.territory_index import open_index

            index = open_index(self.data_dir, self.bundle.manifest_dict())
        self.store = TerritoryStore(self.bundle, index)
        """The tables (package-internal: use the model's and :class:`Territory`'s methods)."""
        self.resolver = Resolver(self.store)

    # -- small helpers --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.store)

    def __iter__(self) -> Iterator[Territory]:
        return (Territory(self, i) for i in range(len(self.store)))

    def __repr__(self) -> str:
        return f"TerritoryModel({self.data_dir}, {len(self)} territoires)"

    def territory(self, row: int) -> Territory:
        """The territory at a row of the store (package-internal)."""
        return Territory(self, row)

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The bundle's ``manifest.json`` (empty when absent or invalid); typed: ``self.bundle.manifest``."""
        return self.bundle.manifest_dict()

    def name_of(self, level: str, code: str) -> str | None:
        """Name of the territory ``level:code``, or ``None`` if unknown."""
        return self.store.name_of(level, code)

    def levels(self) -> list[str]:
        """The levels present in the bundle, smallest first."""
        present = set(self.store.levels)
        return [lvl for lvl in LEVELS if lvl in present]

    def within(self, level: str, parent: str | Territory) -> list[Territory]:
        """The territories of ``level`` inside ``parent`` (``"region:84"``, ``"84"`` = the département,
        a SIREN, a :class:`Territory`), sorted by code; see :mod:`planeco_kernel.territory.within`."""
        t = parent if isinstance(parent, Territory) else self.get(parent)
        lvl = codes.parse_level(level) or "commune"
        by_key = self.store.by_key
        return [Territory(self, by_key[(lvl, c)]) for c in proximity.within_codes(self.store, lvl, t.level, t.code)]

    # -- exact look-up --------------------------------------------------------------------------
    def get(self, code: str, level: str | None = None) -> Territory:
        """The territory with this code (or canonical key ``"level:code"``).

        Parameters
        ----------
        code : str
            INSEE code, SIREN, ``"FR"``, or ``"level:code"``.
        level : str, optional
            Restrict to one level; without it, a code shared by several levels (``"75"``) is
            taken at the smallest (the département; an EPCI rather than the SCoT it carries).

        Raises
        ------
        TerritoryNotFoundError
            No territory has this code (at this level).
        """
        return Territory(self, self.resolver.get(code, level=level))

    def __contains__(self, key: str) -> bool:
        return self.resolver.contains(key)

    # -- resolve anything ---------------------------------------------------------------------
    def resolve(self, query: str, level: str | None = None, departement: str | None = None) -> Resolution:
        """Understand what a user typed: a code, SIREN, key, old commune code or name.

        Parameters
        ----------
        query : str
            ``"01001"``, ``"200046977"``, ``"region:75"``, ``"01340"`` (old code, merged),
            ``"st etienne"``, ``"Saint-Denis (93)"``…
        level : str, optional
            Only consider this level.
        departement : str, optional
            Only consider territories of this département (narrows ambiguous names).

        Returns
        -------
        Resolution
            The territory and a French ``note`` when something was assumed (a bare code shared
            by a département and a région, an old code, an approximate name…).

        Raises
        ------
        AmbiguousTerritoryError
            Several territories fit equally well (``"Saint-Denis"``): the error lists them.
        TerritoryNotFoundError
            Nothing fits; the error carries the closest names as suggestions.
        """
        row, note, how = self.resolver.resolve(query, level=level, departement=departement)
        return Resolution(Territory(self, row), note, how)

    # -- search ---------------------------------------------------------------------------------
    def search(self, text: str, level: str | None = None, limit: int = 20,
               departement: str | None = None) -> list[Territory]:
        """Territories whose name (or code) matches ``text``, best first.

        Ranking: exact code, exact name (accents, case, hyphens, ``St``/``Saint`` and articles
        ignored), name starting with the text, a word of the name starting with the text; within
        each tier, the most populous first. Approximate names (typos) are returned only when
        nothing matches literally.

        Parameters
        ----------
        text : str
            Part of a name, a name with typos, or a code.
        level : str, optional
            Only this level.
        limit : int
            Maximum number of results.
        departement : str, optional
            Only territories of this département.
        """
        rows = self.resolver.search(text, level=level, limit=limit, departement=departement)
        return [Territory(self, r) for r in rows]

    # -- tables ---------------------------------------------------------------------------------
    def territories(self, level: str) -> pd.DataFrame:
        """The ``territories`` rows of one level as a pandas DataFrame (a fresh copy)."""
        import pyarrow.compute as pc

        lvl = codes.parse_level(level)
        table = self.store.table
        sub = table.filter(pc.equal(table.column("level"), lvl))
        return sub.to_pandas(types_mapper=pandas_types).reset_index(drop=True)

    def history(self, code: str) -> pd.DataFrame:
        """The rows of ``code_history`` for this commune code, one per COG vintage, oldest first.

        Columns: ``code, vintage, name, type, current_code, event, note``.
        """
        import pyarrow.compute as pc

        t = self.store.code_history()
        c = codes.clean_code(code)
        df = t.filter(pc.equal(t.column("code"), c)).to_pandas(types_mapper=pandas_types)
        return df.sort_values("vintage").reset_index(drop=True)

    def predecessors(self, code: str) -> pd.DataFrame:
        """Rows of ``code_history`` of the *other* codes now covered by commune ``code`` (absorbed communes)."""
        import pyarrow.compute as pc

        t = self.store.code_history()
        c = codes.clean_code(code)
        mask = pc.and_(pc.equal(t.column("current_code"), c), pc.not_equal(t.column("code"), c))
        df = t.filter(mask).to_pandas(types_mapper=pandas_types)
        return df.sort_values(["code", "vintage"]).reset_index(drop=True)

    def scot_members(self, siren: str) -> pd.DataFrame:
        """The ``scot_members`` rows (EPCI and communes, with their source) of one SCoT."""
        import pyarrow.compute as pc

        t = self.store.read("scot_members")
        return t.filter(pc.equal(t.column("scot_code"), codes.clean_code(siren))).to_pandas(
            types_mapper=pandas_types)

    # -- proximity --------------------------------------------------------------------------------
    def nearby(self, code: str, limit: int = 20, level: str | None = None) -> list[Territory]:
        """Territories of the same level closest to ``code``, nearest first (itself excluded).

        Distance is the great-circle distance between the territories' points: a commune's
        interior point, or the population-weighted centre of the member communes for the other
        levels. Territories without geometry are never returned.

        Raises
        ------
        TerritoryNotFoundError
            For an unknown code.
        BundleError
            When the bundle has no commune geometry.
        """
        t = self.get(code, level=level)
        if t.level == "france":
            return []
        return [self.get(c, level=t.level) for c in proximity.nearest_codes(self.store, t.level, t.code, limit)]


# -- cache ---------------------------------------------------------------------------------------
_CACHE: dict[tuple[Path, bool], tuple[tuple, TerritoryModel]] = {}
_CACHE_LOCK = threading.Lock()


def load_model(data_dir: str | Path | Bundle | None = None, *, use_index: bool = False) -> TerritoryModel:
    """The territory model of a data bundle, cached per directory.

    Parameters
    ----------
    data_dir : str or Path, optional
        The bundle directory; default :func:`planeco_kernel.config.data_dir` (``PLANECO_DATA_DIR``).
    use_index : bool
        Read the rows from the territory index when the bundle has a current one (see
        :class:`TerritoryModel`; the command line's ``territory show`` and ``search``).

    Returns
    -------
    TerritoryModel
        The same object on later calls, until ``manifest.json`` (or ``territories.parquet``)
        changes on disk, which triggers a reload.

    Raises
    ------
    BundleError
        The bundle (``territories.parquet``) is missing.
    """
    if isinstance(data_dir, (str, Path)):
        data_dir = Path(data_dir).expanduser()
    bundle = open_bundle(data_dir)  # one stamp per build: a rebuilt bundle is a new Bundle
    d = bundle.data_dir.resolve()
    with _CACHE_LOCK:
        hit = _CACHE.get((d, use_index))
        if hit is not None and hit[0] == bundle.stamp:
            return hit[1]
    model = TerritoryModel(bundle, use_index=use_index)
    with _CACHE_LOCK:
        _CACHE[(d, use_index)] = (bundle.stamp, model)
    return model


def clear_cache() -> None:
    """Forget every cached model (tests, or after rebuilding a bundle in place)."""
    with _CACHE_LOCK:
        _CACHE.clear()
