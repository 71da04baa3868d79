"""The territory model: every territory of the current geography, read from the data bundle.

:func:`load_model` reads ``territories.parquet`` once per bundle (a few milliseconds: columnar
arrays, one dictionary from ``level:code`` to row), caches the model per data directory and
reloads it when ``manifest.json`` changes. Everything else (names, populations, code history,
members, geometries) is indexed on first use.

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

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from planeco_kernel.bundle import schema
from planeco_kernel.bundle.schema import FRANCE_CODE, LEVEL_LABELS_FR, LEVELS
from planeco_kernel.errors import AmbiguousTerritoryError, BundleError, SchemaError, TerritoryNotFoundError
from planeco_kernel.territory import codes
from planeco_kernel.territory.names import BARE, EXACT, FUZZY, PREFIX, WORD, NameIndex

if TYPE_CHECKING:
    import pandas as pd

_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
_PARENT_COLUMNS = {lvl: f"{lvl}_code" for lvl in LEVELS if lvl != "france"}

FUZZY_ACCEPT = 0.88
"""Smallest similarity for :meth:`TerritoryModel.resolve` to accept a misspelt name on its own."""
FUZZY_MARGIN = 0.04
"""…and by how much it must beat the runner-up."""


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
    """

    __slots__ = ("_m", "_i")

    def __init__(self, model: TerritoryModel, row: int):
        self._m = model
        self._i = row

    # -- identity -----------------------------------------------------------------------------
    @property
    def code(self) -> str:
        """INSEE code (commune, département, région), SIREN (EPCI, SCoT) or ``FR``."""
        return self._m._code[self._i]

    @property
    def level(self) -> str:
        """One of :data:`~planeco_kernel.bundle.schema.LEVELS`."""
        return self._m._level[self._i]

    @property
    def name(self) -> str:
        """Official name."""
        return self._m._name[self._i]

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
        return self._m._column("nature")[self._i] or None

    @property
    def flags(self) -> tuple[str, ...]:
        """Data flags from the bundle (``no_epci``, ``merged``, ``no_geometry``…)."""
        raw = self._m._column("flags")[self._i]
        return tuple(f.strip() for f in raw.split(",") if f.strip()) if raw else ()

    # -- figures ------------------------------------------------------------------------------
    @property
    def population(self) -> dict[int, int]:
        """Population municipale by census year (``population`` table); missing years omitted."""
        series = self._m._population_index().get(self._i)
        if series:
            return {y: v for y, v, _s, _f in series if v is not None}
        y, v = self._m._column("census_year")[self._i], self._m._column("population")[self._i]
        return {int(y): int(v)} if y is not None and v is not None else {}

    @property
    def population_sources(self) -> dict[int, str]:
        """Source file and version of each census year's figure (``"communes.json@5.3.0"``)."""
        series = self._m._population_index().get(self._i) or ()
        return {y: s for y, v, s, _f in series if v is not None}

    @property
    def population_flags(self) -> dict[int, str]:
        """Flags of the population figures (``merged_sum``, ``split_unallocated``…), when any."""
        series = self._m._population_index().get(self._i) or ()
        return {y: f for y, v, _s, f in series if f}

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
        return int(self._m._column("members_count")[self._i])

    # -- hierarchy ----------------------------------------------------------------------------
    @property
    def parents(self) -> dict[str, str]:
        """Code of the territory at each level above this one (``"france": "FR"`` included)."""
        out: dict[str, str] = {}
        rank = _RANK[self.level]
        for lvl in LEVELS[rank + 1 :]:
            if lvl == "france":
                out[lvl] = FRANCE_CODE
                continue
            value = self._m._column(_PARENT_COLUMNS[lvl])[self._i]
            if value:
                out[lvl] = value
        return out

    def parent(self, level: str) -> Territory | None:
        """The territory containing this one at ``level``, or ``None`` (no EPCI, no SCoT…)."""
        lvl = codes.parse_level(level)
        code = self.parents.get(lvl)  # type: ignore[arg-type]
        if code is None:
            return None
        row = self._m._by_key.get((lvl, code))
        return Territory(self._m, row) if row is not None else None

    def members(self, level: str = "commune") -> list[Territory]:
        """Territories of ``level`` inside this one (communes of an EPCI, EPCI of a SCoT…), by code."""
        return self._m._members(self, codes.parse_level(level) or "commune")

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
        return self._m._geometry(self, display=display)

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
        return self._m._label(self._i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Territory) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Territory({self.key} {self.name!r})"


class TerritoryModel:
    """All territories of a data bundle, with look-ups by code, key and name.

    Build it with :func:`load_model`. Only ``territories.parquet`` is read up front; the other
    tables are read on first use.

    Parameters
    ----------
    data_dir : Path
        The bundle directory.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        path = self.data_dir / schema.TERRITORIES.path
        if not path.is_file():
            raise BundleError(
                f"Le paquet de données est introuvable : {path} n'existe pas. "
                "Construisez-le avec `planeco data build` (ou `make data`), "
                "ou indiquez son dossier avec PLANECO_DATA_DIR."
            )
        table = pq.read_table(path)
        _check_columns(table.schema.names, schema.TERRITORIES, path)
        self._table = table
        self._level: list[str] = table.column("level").to_pylist()
        self._code: list[str] = table.column("code").to_pylist()
        self._name: list[str] = table.column("name").to_pylist()
        self._by_key: dict[tuple[str, str], int] = {}
        self._by_code: dict[str, list[int]] = {}
        for i, (lvl, code) in enumerate(zip(self._level, self._code, strict=True)):
            self._by_key[(lvl, code)] = i
            self._by_code.setdefault(code, []).append(i)
        self._columns: dict[str, list] = {}
        self._lock = threading.RLock()
        self._geo: dict[tuple[str, bool], tuple[dict[str, int], pa.Array]] = {}

    # -- small helpers --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._code)

    def __iter__(self) -> Iterator[Territory]:
        return (Territory(self, i) for i in range(len(self._code)))

    def __repr__(self) -> str:
        return f"TerritoryModel({self.data_dir}, {len(self)} territoires)"

    def _column(self, name: str) -> list:
        col = self._columns.get(name)
        if col is None:
            col = self._table.column(name).to_pylist()
            self._columns[name] = col
        return col

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The bundle's ``manifest.json`` (empty when absent)."""
        p = self.data_dir / "manifest.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}

    def name_of(self, level: str, code: str) -> str | None:
        """Name of the territory ``level:code``, or ``None`` if unknown."""
        row = self._by_key.get((level, code))
        return self._name[row] if row is not None else None

    def _label(self, row: int) -> str:
        lvl, code = self._level[row], self._code[row]
        what = {"commune": "commune", "epci": "EPCI", "scot": "SCoT", "departement": "département",
                "region": "région", "france": ""}[lvl]
        where = ""
        if lvl in ("commune", "epci", "scot"):
            dep = self._column("departement_code")[row]
            dep_name = self.name_of("departement", dep) if dep else None
            if dep_name:
                where = f", {dep_name}"
        inside = f"{what} {code}".strip()
        return f"{self._name[row]} ({inside}{where})"

    def levels(self) -> list[str]:
        """The levels present in the bundle, smallest first."""
        present = set(self._level)
        return [lvl for lvl in LEVELS if lvl in present]

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
        lvl = codes.parse_level(level)
        split = codes.split_key(code)
        if split is not None:
            key_level, code = split
            if lvl is not None and lvl != key_level:
                raise TerritoryNotFoundError(code, [f"{key_level}:{code}"], level=lvl)
            lvl = key_level
        c = codes.clean_code(code)
        if lvl is not None:
            row = self._by_key.get((lvl, c))
            if row is None:
                others = [f"{self._level[r]}:{c}" for r in self._by_code.get(c, ())]
                raise TerritoryNotFoundError(code, others or self._code_suggestions(c), level=lvl)
            return Territory(self, row)
        rows = self._by_code.get(c)
        if not rows:
            raise TerritoryNotFoundError(code, self._code_suggestions(c))
        return Territory(self, min(rows, key=lambda r: _RANK[self._level[r]]))

    def __contains__(self, key: str) -> bool:
        split = codes.split_key(key)
        if split:
            return (split[0], codes.clean_code(split[1])) in self._by_key
        return codes.clean_code(key) in self._by_code

    def _code_suggestions(self, c: str) -> list[str]:
        out: list[str] = []
        padded = codes.padded_candidates(c)
        if padded and padded in self._by_code:
            out.append(padded)
        if codes.COMMUNE_CODE.match(c):
            succ = self._successor(c)
            if succ is not None:
                out.append(f"{succ[0]} ({self.name_of('commune', succ[0])}, successeur de {c})")
        return out

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
        text = (query or "").strip()
        if not text:
            raise TerritoryNotFoundError(query or "", [])
        lvl = codes.parse_level(level)
        dep = codes.clean_code(departement) if departement else None

        split = codes.split_key(text)
        if split is not None:
            key_level, rest = split
            if lvl is not None and lvl != key_level:
                raise TerritoryNotFoundError(text, [f"{key_level}:{rest}"], level=lvl)
            if codes.looks_like_code(rest):
                return Resolution(self.get(rest, level=key_level), None, "key")
            return self._resolve_name(rest, key_level, dep, original=text)

        if codes.looks_like_code(text):
            return self._resolve_code(text, lvl)

        m = codes.TRAILING_DEPARTEMENT.match(text)
        if m and dep is None:
            return self._resolve_name(m.group(1), lvl, codes.clean_code(m.group(2)), original=text)
        return self._resolve_name(text, lvl, dep, original=text)

    def _resolve_code(self, text: str, lvl: str | None) -> Resolution:
        c = codes.clean_code(text)
        note_pad = None
        if c not in self._by_code and codes.padded_candidates(c) in self._by_code:
            padded = codes.padded_candidates(c)
            note_pad = f"Code complété par un zéro initial : « {c} » → « {padded} »."
            c = padded  # type: ignore[assignment]
        rows = [r for r in self._by_code.get(c, ()) if lvl is None or self._level[r] == lvl]
        if rows:
            rows.sort(key=lambda r: _RANK[self._level[r]])
            row = rows[0]
            notes = [note_pad] if note_pad else []
            if len(rows) > 1:
                others = " ; ".join(
                    f"{_article(self._level[r])}{self._name[r]} : demandez « {self._level[r]}:{c} »"
                    f" (level=\"{self._level[r]}\", --level {self._level[r]})"
                    for r in rows[1:]
                )
                notes.append(
                    f"« {c} » désigne ici {_article(self._level[row])}{self._name[row]} ; "
                    f"c'est aussi le code de {others}."
                )
            how = "siren" if codes.SIREN.match(c) else "code"
            return Resolution(Territory(self, row), " ".join(notes) or None, how)
        if lvl in (None, "commune") and codes.COMMUNE_CODE.match(c):
            succ = self._successor(c)
            if succ is not None:
                code, note = succ
                return Resolution(self.get(code, level="commune"), note, "old_code")
            arr = self._arrondissement(c)
            if arr is not None:
                return arr
        raise TerritoryNotFoundError(text, self._code_suggestions(c), level=lvl)

    def _candidates_filter(self, rows: list[int], lvl: str | None, dep: str | None) -> list[int]:
        if lvl is not None:
            rows = [r for r in rows if self._level[r] == lvl]
        if dep is not None:
            deps = self._column("departement_code")
            rows = [r for r in rows if deps[r] == dep or (self._level[r] == "departement" and self._code[r] == dep)]
        return rows

    def _resolve_name(self, text: str, lvl: str | None, dep: str | None, *, original: str) -> Resolution:
        idx = self._names
        how_by_tier = {EXACT: "name", BARE: "name", PREFIX: "name_prefix", WORD: "name_word"}
        for tier, finder in ((EXACT, idx.exact), (BARE, idx.exact_bare), (PREFIX, idx.prefix), (WORD, idx.word)):
            rows = self._candidates_filter(finder(text), lvl, dep)
            if not rows:
                continue
            smallest = min(_RANK[self._level[r]] for r in rows)
            best = [r for r in rows if _RANK[self._level[r]] == smallest]
            if len(best) > 1:
                best.sort(key=self._rank_key)
                raise AmbiguousTerritoryError(original, [self._label(r) for r in best[:12]]
                                              + ([f"… ({len(best) - 12} autres)"] if len(best) > 12 else []))
            row = best[0]
            notes: list[str] = []
            if tier in (PREFIX, WORD):
                notes.append(f"« {original} » interprété comme {self._label(row)}.")
            others = [r for r in rows if r != row]
            if others:
                others.sort(key=lambda r: (_RANK[self._level[r]], self._rank_key(r)))
                alts = "; ".join(f"{self._label(r)} : « {self._level[r]}:{self._code[r]} »" for r in others[:5])
                notes.append(f"Le nom désigne aussi : {alts}.")
            return Resolution(Territory(self, row), " ".join(notes) or None, how_by_tier[tier])

        fuzzy = [(r, s) for r, s in idx.fuzzy(text, limit=40) if self._candidates_filter([r], lvl, dep)]
        if fuzzy:
            best_row, best_score = fuzzy[0]
            runner = fuzzy[1][1] if len(fuzzy) > 1 else 0.0
            if best_score >= FUZZY_ACCEPT and best_score - runner >= FUZZY_MARGIN:
                note = f"« {original} » est introuvable tel quel ; interprété comme {self._label(best_row)}."
                return Resolution(Territory(self, best_row), note, "name_fuzzy")
        raise TerritoryNotFoundError(original, [self._label(r) for r, _s in fuzzy[:5]], level=lvl)

    def _rank_key(self, row: int) -> tuple:
        pop = self._column("population")[row]
        return (-(pop or 0), self._name[row], self._code[row])

    # -- search ---------------------------------------------------------------------------------
    @cached_property
    def _names(self) -> NameIndex:
        with self._lock:
            return NameIndex(self._name)

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
        lvl = codes.parse_level(level)
        dep = codes.clean_code(departement) if departement else None
        text = (text or "").strip()
        if not text or limit <= 0:
            return []
        out: dict[int, None] = {}
        if codes.looks_like_code(text) or codes.split_key(text):
            try:
                t = self.get(text, level=lvl)
                if self._candidates_filter([t._i], lvl, dep):
                    out[t._i] = None
            except TerritoryNotFoundError:
                pass
        idx = self._names
        for finder in (idx.exact, idx.exact_bare, idx.prefix, idx.word):
            if len(out) >= limit:
                break
            rows = [r for r in self._candidates_filter(finder(text), lvl, dep) if r not in out]
            rows.sort(key=self._rank_key)
            for r in rows:
                out.setdefault(r, None)
        if not out:  # approximate names only when nothing matches literally
            for r, _s in idx.fuzzy(text, limit=limit * 3, cutoff=0.6):
                if r not in out and self._candidates_filter([r], lvl, dep):
                    out[r] = None
        return [Territory(self, r) for r in list(out)[:limit]]

    # -- tables ---------------------------------------------------------------------------------
    def territories(self, level: str) -> pd.DataFrame:
        """The ``territories`` rows of one level as a pandas DataFrame (a fresh copy)."""
        lvl = codes.parse_level(level)
        sub = self._table.filter(pc.equal(self._table.column("level"), lvl))
        return sub.to_pandas(types_mapper=_pandas_types).reset_index(drop=True)

    def history(self, code: str) -> pd.DataFrame:
        """The rows of ``code_history`` for this commune code, one per COG vintage, oldest first.

        Columns: ``code, vintage, name, type, current_code, event, note``.
        """
        t = self._code_history
        c = codes.clean_code(code)
        sub = t.filter(pc.equal(t.column("code"), c))
        df = sub.to_pandas(types_mapper=_pandas_types)
        return df.sort_values("vintage").reset_index(drop=True)

    def predecessors(self, code: str) -> pd.DataFrame:
        """Rows of ``code_history`` of the *other* codes now covered by commune ``code`` (absorbed communes)."""
        t = self._code_history
        c = codes.clean_code(code)
        mask = pc.and_(pc.equal(t.column("current_code"), c), pc.not_equal(t.column("code"), c))
        df = t.filter(mask).to_pandas(types_mapper=_pandas_types)
        return df.sort_values(["code", "vintage"]).reset_index(drop=True)

    def scot_members(self, siren: str) -> pd.DataFrame:
        """The ``scot_members`` rows (EPCI and communes, with their source) of one SCoT."""
        t = self._read("scot_members")
        return t.filter(pc.equal(t.column("scot_code"), codes.clean_code(siren))).to_pandas(
            types_mapper=_pandas_types)

    def _read(self, table_name: str, columns: list[str] | None = None) -> pa.Table:
        decl = schema.TABLES[table_name]
        path = self.data_dir / decl.path
        if not path.is_file():
            raise BundleError(
                f"Table « {table_name} » absente du paquet de données ({path}). "
                "Reconstruisez-le avec `planeco data build`."
            )
        table = pq.read_table(path, columns=columns)
        _check_columns(table.schema.names, decl, path, subset=columns)
        return table

    @cached_property
    def _code_history(self) -> pa.Table:
        with self._lock:
            return self._read("code_history")

    # -- populations ------------------------------------------------------------------------------
    def _population_index(self) -> dict[int, list[tuple[int, int | None, str, str | None]]]:
        idx = self.__dict__.get("_pop_idx")
        if idx is not None:
            return idx
        with self._lock:
            if "_pop_idx" in self.__dict__:
                return self.__dict__["_pop_idx"]
            t = self._read("population")
            t = t.sort_by([("level", "ascending"), ("code", "ascending"), ("census_year", "ascending")])
            idx = {}
            by_key = self._by_key
            for lvl, code, year, pop, src, flag in zip(
                t.column("level").to_pylist(), t.column("code").to_pylist(), t.column("census_year").to_pylist(),
                t.column("population").to_pylist(), t.column("source").to_pylist(), t.column("flag").to_pylist(),
                strict=True,
            ):
                row = by_key.get((lvl, code))
                if row is None:
                    continue
                series = idx.get(row)
                if series is None:
                    idx[row] = series = []
                series.append((int(year), pop, src, flag or None))
            self.__dict__["_pop_idx"] = idx
            return idx

    # -- members ----------------------------------------------------------------------------------
    def _member_index(self, parent_level: str) -> dict[str, list[int]]:
        cache = self.__dict__.setdefault("_member_idx", {})
        idx = cache.get(parent_level)
        if idx is None:
            idx = {}
            for row, value in enumerate(self._column(_PARENT_COLUMNS[parent_level])):
                if value:
                    idx.setdefault(value, []).append(row)
            cache[parent_level] = idx
        return idx

    def _members(self, t: Territory, level: str) -> list[Territory]:
        if _RANK[level] >= _RANK[t.level]:
            return []
        if t.level == "france":
            rows = [r for r, lvl in enumerate(self._level) if lvl == level]
        else:
            rows = [r for r in self._member_index(t.level).get(t.code, ()) if self._level[r] == level]
        rows.sort(key=lambda r: self._code[r])
        return [Territory(self, r) for r in rows]

    # -- old codes, arrondissements -------------------------------------------------------------
    def _successor(self, code: str) -> tuple[str, str] | None:
        """For a commune code that is no longer current: ``(current code, French note)``."""
        t = self._code_history
        sub = t.filter(pc.equal(t.column("code"), code))
        if sub.num_rows == 0:
            return None
        sub = sub.sort_by([("vintage", "descending")])
        last = {name: sub.column(name)[0].as_py() for name in sub.schema.names}
        current = last.get("current_code")
        if not current or current == code and ("commune", code) in self._by_key:
            return None
        if ("commune", current) not in self._by_key:
            return None
        note = last.get("note")
        if not note:
            note = (
                f"Le code {code} ({last.get('name')}) n'est plus celui d'une commune "
                f"({_TYPE_FR.get(last.get('type') or '', last.get('type'))} en {last.get('vintage')}) : "
                f"il est couvert par {current} {self.name_of('commune', current)}."
            )
        return current, note

    def _arrondissement(self, code: str) -> Resolution | None:
        """Municipal arrondissements (Paris, Lyon, Marseille) from ``cog/communes.parquet``, if present."""
        path = self.data_dir / schema.COG_COMMUNES.path
        if not path.is_file():
            return None
        t = pq.read_table(path, columns=["vintage", "code", "name", "type", "chef_lieu"],
                          filters=[("code", "=", code), ("type", "=", "arrondissement-municipal")])
        if t.num_rows == 0:
            return None
        t = t.sort_by([("vintage", "descending")])
        name, parent = t.column("name")[0].as_py(), t.column("chef_lieu")[0].as_py()
        if not parent or ("commune", parent) not in self._by_key:
            return None
        note = (f"{code} ({name}) est un arrondissement municipal de {parent} {self.name_of('commune', parent)} ; "
                "les chiffres affichés sont ceux de la commune entière.")
        return Resolution(self.get(parent, level="commune"), note, "arrondissement")

    # -- geometry -----------------------------------------------------------------------------------
    def _geometry(self, t: Territory, display: bool):
        full = not display and t.level == "commune"
        cache_key = (t.level if not full else "commune", full)
        entry = self._geo.get(cache_key)
        if entry is None:
            with self._lock:
                if full:
                    table = self._read("commune_geometry", columns=["code", "geometry"])
                else:
                    decl = schema.DISPLAY_GEOMETRY
                    path = self.data_dir / decl.path
                    if not path.is_file():
                        raise BundleError(
                            f"Contours absents du paquet de données ({path}). "
                            "Reconstruisez-le avec `planeco data build`."
                        )
                    table = pq.read_table(path, columns=["level", "code", "geometry"],
                                          filters=[("level", "=", t.level)])
                geoms = table.column("geometry").combine_chunks()
                index = {c: i for i, c in enumerate(table.column("code").to_pylist())}
                entry = (index, geoms)
                self._geo[cache_key] = entry
        index, geoms = entry
        i = index.get(t.code)
        if i is None:
            return None
        wkb = geoms[i].as_py()
        if wkb is None:
            return None
        import shapely

        return shapely.from_wkb(wkb)


_TYPE_FR = {
    "commune-deleguee": "commune déléguée",
    "commune-associee": "commune associée",
    "absent": "code absent du COG",
    "commune-actuelle": "commune",
}


def _article(level: str) -> str:
    return {"commune": "la commune ", "epci": "l'EPCI ", "scot": "le SCoT ", "departement": "le département ",
            "region": "la région ", "france": ""}[level]


def _pandas_types(t: pa.DataType):
    import pandas as pd

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t) and t.bit_width == 64:
        return pd.Int64Dtype()
    return None


def _check_columns(names: list[str], decl: schema.Table, path: Path, subset: list[str] | None = None) -> None:
    """Cheap schema check at load time (column names only; ``schema.validate`` does the full check)."""
    expected = list(subset) if subset else list(decl.column_names)
    missing = [c for c in expected if c not in names]
    if missing:
        raise SchemaError(
            f"{decl.name} ({path}): missing columns {missing} (expected columns: {', '.join(decl.column_names)}). "
            "Reconstruisez le paquet de données avec `planeco data build`."
        )


# -- cache ---------------------------------------------------------------------------------------
_CACHE: dict[Path, tuple[tuple, TerritoryModel]] = {}
_CACHE_LOCK = threading.Lock()


def _stamp(d: Path) -> tuple:
    out = []
    for name in ("manifest.json", schema.TERRITORIES.path):
        try:
            st = (d / name).stat()
            out.append((st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def load_model(data_dir: str | Path | None = None) -> TerritoryModel:
    """The territory model of a data bundle, cached per directory.

    Parameters
    ----------
    data_dir : str or Path, optional
        The bundle directory; default :func:`planeco_kernel.config.data_dir` (``PLANECO_DATA_DIR``).

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
    if data_dir is None:
        from planeco_kernel import config

        data_dir = config.data_dir()
    d = Path(data_dir).expanduser().resolve()
    stamp = _stamp(d)
    with _CACHE_LOCK:
        hit = _CACHE.get(d)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    model = TerritoryModel(d)
    with _CACHE_LOCK:
        _CACHE[d] = (stamp, model)
    return model


def clear_cache() -> None:
    """Forget every cached model (tests, or after rebuilding a bundle in place)."""
    with _CACHE_LOCK:
        _CACHE.clear()
