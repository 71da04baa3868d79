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

import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from planeco_kernel.bundle import schema
from planeco_kernel.bundle.reader import Bundle, open_bundle
from planeco_kernel.bundle.schema import LEVELS
from planeco_kernel.errors import (
    AmbiguousTerritoryError,
    BundleError,
    SchemaError,
    TerritoryNotFoundError,
)
from planeco_kernel.levels import LEVEL
from planeco_kernel.territory import codes
from planeco_kernel.territory.names import BARE, COMPACT, EXACT, PREFIX, WORD, NameIndex
from planeco_kernel.territory.objects import PARENT_COLUMNS as _PARENT_COLUMNS
from planeco_kernel.territory.objects import RANK as _RANK
from planeco_kernel.territory.objects import Resolution, Territory
from planeco_kernel.territory.population import PopulationIndex

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Resolution", "Territory", "TerritoryModel", "clear_cache", "load_model"]

FUZZY_ACCEPT = 0.88
"""Smallest similarity for :meth:`TerritoryModel.resolve` to accept a misspelt name on its own."""
FUZZY_MARGIN = 0.04
"""…and by how much it must beat the runner-up."""


class TerritoryModel:
    """All territories of a data bundle, with look-ups by code, key and name.

    Build it with :func:`load_model`. Only ``territories.parquet`` is read up front; the other
    tables are read on first use.

    Parameters
    ----------
    data_dir : Path
        The bundle directory.
    """

    def __init__(self, data_dir: Path | Bundle):
        self.bundle = data_dir if isinstance(data_dir, Bundle) else Bundle(data_dir)
        self.data_dir = self.bundle.data_dir
        path = self.bundle.path("territories")
        table = pq.read_table(path)
        _check_columns(table.schema.names, schema.TERRITORIES, path)
        self._table = table
        self._level: list[str] = table.column("level").to_pylist()
        self._code: list[str] = table.column("code").to_pylist()
        self._by_key: dict[tuple[str, str], int] = dict(zip(zip(self._level, self._code), range(len(self._code))))
        self._columns: dict[str, list] = {}
        self._pop: PopulationIndex | None = None
        self._lock = threading.RLock()
        self._geo: dict[tuple[str, bool], tuple[dict[str, int], pa.Array]] = {}

    # -- small helpers --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._code)

    def __iter__(self) -> Iterator[Territory]:
        return (Territory(self, i) for i in range(len(self._code)))

    def __repr__(self) -> str:
        return f"TerritoryModel({self.data_dir}, {len(self)} territoires)"

    @property
    def _name(self) -> list[str]:
        return self._column("name")

    def _rows_for_code(self, c: str) -> list[int]:
        """Rows having this code, at any level, smallest level first."""
        by_key = self._by_key
        return [r for r in (by_key.get((lvl, c)) for lvl in LEVELS) if r is not None]

    def _column(self, name: str) -> list:
        col = self._columns.get(name)
        if col is None:
            col = self._table.column(name).to_pylist()
            self._columns[name] = col
        return col

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The bundle's ``manifest.json`` (empty when absent or invalid); typed: ``self.bundle.manifest``."""
        return self.bundle.manifest_dict()

    def name_of(self, level: str, code: str) -> str | None:
        """Name of the territory ``level:code``, or ``None`` if unknown."""
        row = self._by_key.get((level, code))
        return self._name[row] if row is not None else None

    def _label(self, row: int) -> str:
        lvl, code = self._level[row], self._code[row]
        what = "" if lvl == "france" else LEVEL[lvl].short_noun
        where = ""
        if lvl in ("commune", "epci", "scot"):
            dep = self._column("departement_code")[row]
            dep_name = self.name_of("departement", dep) if dep else None
            if dep_name:
                where = f", {dep_name}"
        inside = f"{what} {code}".strip()
        return f"{self._name[row]} ({inside}{where})"

    def within(self, level: str, parent: str | Territory) -> list[Territory]:
        """The territories of ``level`` inside ``parent`` (``"region:84"``, ``"84"`` = the département,
        a SIREN, a :class:`Territory`), sorted by code; see :mod:`planeco_kernel.territory.within`."""
        from planeco_kernel.territory.within import codes_within

        t = parent if isinstance(parent, Territory) else self.get(parent)
        lvl = codes.parse_level(level) or "commune"
        frame = self._within_frame()
        return [Territory(self, self._by_key[(lvl, c)]) for c in codes_within(frame, lvl, t.level, t.code)]

    def _within_frame(self):
        cached = self.__dict__.get("_within_df")
        if cached is None:
            cols = ["level", "code", *_PARENT_COLUMNS.values()]
            cached = self._table.select([c for c in cols if c in self._table.schema.names]).to_pandas()
            self.__dict__["_within_df"] = cached
        return cached

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
                others = [f"{self._level[r]}:{c}" for r in self._rows_for_code(c)]
                raise TerritoryNotFoundError(code, others or self._code_suggestions(c), level=lvl)
            return Territory(self, row)
        for lvl in LEVELS:
            row = self._by_key.get((lvl, c))
            if row is not None:
                return Territory(self, row)
        raise TerritoryNotFoundError(code, self._code_suggestions(c))

    def __contains__(self, key: str) -> bool:
        split = codes.split_key(key)
        if split:
            return (split[0], codes.clean_code(split[1])) in self._by_key
        return bool(self._rows_for_code(codes.clean_code(key)))

    def _code_suggestions(self, c: str) -> list[str]:
        out: list[str] = []
        padded = codes.padded_candidates(c)
        if padded and self._rows_for_code(padded):
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
        dep = _departement(departement)

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
        padded = codes.padded_candidates(c)
        if not self._rows_for_code(c) and padded and self._rows_for_code(padded):
            note_pad = f"Code complété par un zéro initial : « {c} » → « {padded} »."
            c = padded  # type: ignore[assignment]
        rows = [r for r in self._rows_for_code(c) if lvl is None or self._level[r] == lvl]
        if rows:
            row = rows[0]
            notes = [note_pad] if note_pad else []
            if len(rows) > 1:
                others = " ; ".join(
                    f"{_de_article(self._level[r])}{self._name[r]} : demandez « {self._level[r]}:{c} »"
                    f" (level=\"{self._level[r]}\", --level {self._level[r]})"
                    for r in rows[1:]
                )
                notes.append(
                    f"« {c} » désigne ici {_article(self._level[row])}{self._name[row]} ; "
                    f"c'est aussi le code {others}."
                )
            how = "siren" if codes.SIREN.match(c) else "code"
            return Resolution(Territory(self, row), " ".join(notes) or None, how)
        if lvl in (None, "commune") and codes.COMMUNE_CODE.match(c):
            succ = self._successor(c)
            if succ is not None:
                code, note, typ = succ
                how = "arrondissement" if typ == "arrondissement-municipal" else "old_code"
                return Resolution(self.get(code, level="commune"), note, how)
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
        how_by_tier = {EXACT: "name", BARE: "name", COMPACT: "name", PREFIX: "name_prefix", WORD: "name_word"}
        tiers = ((EXACT, idx.exact), (BARE, idx.exact_bare), (COMPACT, idx.compact), (PREFIX, idx.prefix),
                 (WORD, idx.word))
        for tier, finder in tiers:
            rows = self._candidates_filter(finder(text), lvl, dep)
            if not rows:
                continue
            # The level of the most populous candidate wins (ties: the smallest level), so that
            # "Paris" is the commune, "La Réunion" the département rather than a village.
            lead = min(rows, key=lambda r: (-(self._column("population")[r] or 0), _RANK[self._level[r]]))
            best = [r for r in rows if self._level[r] == self._level[lead]]
            if len(best) > 1:
                raise self._ambiguous(original, best, text)
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

    def _ambiguous(self, original: str, rows: list[int], name: str) -> AmbiguousTerritoryError:
        """The error for several equally good candidates, most populous first, with a hint."""
        rows = sorted(rows, key=self._rank_key)
        labels = [self._label(r) for r in rows[:12]] + ([f"… ({len(rows) - 12} autres)"] if len(rows) > 12 else [])
        exc = AmbiguousTerritoryError(original, labels)
        deps = self._column("departement_code")
        if self._level[rows[0]] in ("commune", "epci", "scot") and deps[rows[0]]:
            d = deps[rows[0]]
            exc.args = (f"{exc} Pour départager par département : « {name} ({d}) », ou --departement {d} "
                        f"(departement=\"{d}\" en Python).",)
        return exc

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
        dep = _departement(departement)
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
        for finder in (idx.exact, idx.exact_bare, idx.compact, idx.prefix, idx.word):
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
        path = self.bundle.path(table_name)
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
    def _population(self) -> PopulationIndex:
        pop = self._pop
        if pop is None:
            with self._lock:
                if self._pop is None:
                    self._pop = PopulationIndex(self._read("population"), self._table)
                pop = self._pop
        return pop

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
    def _successor(self, code: str) -> tuple[str, str, str] | None:
        """For a commune code that is no longer current: ``(current code, French note, type)``.

        ``type`` is the code's last type in ``code_history`` (``commune-deleguee``,
        ``arrondissement-municipal``, ``absent``…).
        """
        t = self._code_history
        sub = t.filter(pc.equal(t.column("code"), code))
        if sub.num_rows == 0:
            return None
        sub = sub.sort_by([("vintage", "descending")])
        last = {name: sub.column(name)[0].as_py() for name in sub.schema.names}
        current = last.get("current_code")
        if not current or (current == code and ("commune", code) in self._by_key):
            return None
        if ("commune", current) not in self._by_key:
            return None
        typ = last.get("type") or ""
        note = last.get("note")
        if not note:
            note = (
                f"Le code {code} ({last.get('name')}) n'est plus celui d'une commune "
                f"({_TYPE_FR.get(typ, typ)} en {last.get('vintage')}) : "
                f"il est couvert par {current} {self.name_of('commune', current)}."
            )
        if typ == "arrondissement-municipal":
            note = f"{note.rstrip('.')}. Les chiffres affichés sont ceux de la commune entière."
        return current, note, typ

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
    # -- proximity --------------------------------------------------------------------------------
    def _points(self, level: str) -> tuple[list[str], Any, Any]:
        """Codes and (lon, lat) arrays, in radians, of the territories of a level.

        Communes use their interior point (``geometry/communes.parquet``); other levels the
        population-weighted mean of their member communes' points (plain mean where no
        population is known).
        """
        cache = self.__dict__.setdefault("_points_cache", {})
        hit = cache.get(level)
        if hit is not None:
            return hit
        import numpy as np
        import pandas as pd

        pts = self._read("commune_geometry", columns=["code", "lon", "lat"]).to_pandas()
        if level == "commune":
            out = (pts["code"].tolist(), np.radians(pts["lon"].to_numpy()), np.radians(pts["lat"].to_numpy()))
        else:
            communes = pd.DataFrame({
                "code": [c for c, lvl in zip(self._code, self._level) if lvl == "commune"],
                "parent": [p for p, lvl in zip(self._column(_PARENT_COLUMNS[level]), self._level) if lvl == "commune"],
                "w": [p if p else 1 for p, lvl in zip(self._column("population"), self._level) if lvl == "commune"],
            }).merge(pts, on="code").dropna(subset=["parent"])
            communes["wlon"] = communes["lon"] * communes["w"]
            communes["wlat"] = communes["lat"] * communes["w"]
            g = communes.groupby("parent")[["wlon", "wlat", "w"]].sum()
            out = (g.index.tolist(), np.radians((g["wlon"] / g["w"]).to_numpy()),
                   np.radians((g["wlat"] / g["w"]).to_numpy()))
        cache[level] = out
        return out

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
        import numpy as np

        t = self.get(code, level=level)
        if t.level == "france":
            return []
        codes, lon, lat = self._points(t.level)
        try:
            i = codes.index(t.code)
        except ValueError:
            return []
        # haversine, vectorised over all territories of the level
        dlat, dlon = lat - lat[i], lon - lon[i]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[i]) * np.cos(lat) * np.sin(dlon / 2) ** 2
        order = np.argsort(a, kind="stable")
        out = [self.get(codes[j], level=t.level) for j in order[: limit + 1] if j != i]
        return out[:limit]

    def _geometry(self, t: Territory, display: bool):
        display_path = self.data_dir / schema.DISPLAY_GEOMETRY.path
        full_path = self.data_dir / schema.COMMUNE_GEOMETRY.path
        # Communes: the full contour when asked, or when there is no display layer.
        full = t.level == "commune" and (not display or not display_path.is_file()) and full_path.is_file()
        cache_key = ("commune", True) if full else (t.level, False)
        entry = self._geo.get(cache_key)
        if entry is None:
            with self._lock:
                if full:
                    table = self._read("commune_geometry", columns=["code", "geometry"])
                elif display_path.is_file():
                    table = pq.read_table(display_path, columns=["level", "code", "geometry"],
                                          filters=[("level", "=", t.level)])
                else:
                    raise BundleError(
                        f"Contours absents du paquet de données ({display_path}). "
                        "Reconstruisez-le avec `planeco data build` (contours inclus)."
                    )
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
    "arrondissement-municipal": "arrondissement municipal",
}


def _departement(value: str | None) -> str | None:
    """A département filter as given by a user: ``"1"`` → ``"01"``, ``"2a"`` → ``"2A"``."""
    if not value:
        return None
    c = codes.clean_code(value)
    return "0" + c if c.isdigit() and len(c) == 1 else c


def _de_article(level: str) -> str:
    """« de l'EPCI » before a territory's name (« de la » before « France »)."""
    return "de la " if level == "france" else f"{LEVEL[level].of_short} "


def _article(level: str) -> str:
    """« l'EPCI » before a territory's name (nothing before « France »)."""
    return "" if level == "france" else f"{LEVEL[level].the_short} "


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


def load_model(data_dir: str | Path | Bundle | None = None) -> TerritoryModel:
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
    if isinstance(data_dir, (str, Path)):
        data_dir = Path(data_dir).expanduser()
    bundle = open_bundle(data_dir)  # one stamp per build: a rebuilt bundle is a new Bundle
    d = bundle.data_dir.resolve()
    with _CACHE_LOCK:
        hit = _CACHE.get(d)
        if hit is not None and hit[0] == bundle.stamp:
            return hit[1]
    model = TerritoryModel(bundle)
    with _CACHE_LOCK:
        _CACHE[d] = (bundle.stamp, model)
    return model


def clear_cache() -> None:
    """Forget every cached model (tests, or after rebuilding a bundle in place)."""
    with _CACHE_LOCK:
        _CACHE.clear()
