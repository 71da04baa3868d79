"""From what a user typed to territory rows: codes, keys, old codes, arrondissements, names.

:class:`Resolver` works on the rows of a :class:`~planeco_kernel.territory.store.TerritoryStore`
and returns row numbers with the French note (from :mod:`planeco_kernel.territory.wording`) saying
what was assumed; :class:`~planeco_kernel.territory.model.TerritoryModel` turns rows into
:class:`~planeco_kernel.territory.objects.Territory` objects. The rules are documented on
:meth:`TerritoryModel.get`, :meth:`TerritoryModel.resolve` and :meth:`TerritoryModel.search`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planeco_kernel.errors import AmbiguousTerritoryError, TerritoryNotFoundError
from planeco_kernel.levels import RANK
from planeco_kernel.territory import codes, wording

if TYPE_CHECKING:
    from planeco_kernel.territory.names import NameIndex
    from planeco_kernel.territory.store import TerritoryStore

FUZZY_ACCEPT = 0.88
"""Smallest similarity for :meth:`Resolver.resolve` to accept a misspelt name on its own."""
FUZZY_MARGIN = 0.04
"""…and by how much it must beat the runner-up."""

Found = tuple[int, "str | None", str]
"""``(row, French note or None, matched_by)``."""


class Resolver:
    """Code, key and name look-ups over one store."""

    def __init__(self, store: TerritoryStore):
        self.store = store

    @property
    def names(self) -> NameIndex:
        from planeco_kernel.territory.names import NameIndex

        return self.store.cached(("names",), lambda: NameIndex(self.store.names))

    def label(self, row: int) -> str:
        s = self.store
        lvl, code = s.levels[row], s.codes[row]
        dep_name = None
        if lvl in ("commune", "epci", "scot"):
            dep = s.column("departement_code")[row]
            dep_name = s.name_of("departement", dep) if dep else None
        return wording.label(s.names[row], lvl, code, dep_name)

    def rank_key(self, row: int) -> tuple:
        pop = self.store.column("population")[row]
        return (-(pop or 0), self.store.names[row], self.store.codes[row])

    # -- exact look-up --------------------------------------------------------------------------
    def get(self, code: str, level: str | None = None) -> int:
        s = self.store
        lvl = codes.parse_level(level)
        split = codes.split_key(code)
        if split is not None:
            key_level, code = split
            if lvl is not None and lvl != key_level:
                raise TerritoryNotFoundError(code, [f"{key_level}:{code}"], level=lvl)
            lvl = key_level
        c = codes.clean_code(code)
        if lvl is not None:
            row = s.row_of(lvl, c)
            if row is None:
                others = [f"{s.levels[r]}:{c}" for r in s.rows_for_code(c)]
                raise TerritoryNotFoundError(code, others or self.code_suggestions(c), level=lvl)
            return row
        rows = s.rows_for_code(c)  # smallest level first
        if rows:
            return rows[0]
        raise TerritoryNotFoundError(code, self.code_suggestions(c))

    def contains(self, key: str) -> bool:
        split = codes.split_key(key)
        if split:
            return (split[0], codes.clean_code(split[1])) in self.store.by_key
        return bool(self.store.rows_for_code(codes.clean_code(key)))

    def code_suggestions(self, c: str) -> list[str]:
        out: list[str] = []
        padded = codes.padded_candidates(c)
        if padded and self.store.rows_for_code(padded):
            out.append(padded)
        if codes.COMMUNE_CODE.match(c):
            succ = self.successor(c)
            if succ is not None:
                out.append(wording.successor_suggestion(c, succ[0], self.store.name_of("commune", succ[0])))
        return out

    # -- resolve anything ---------------------------------------------------------------------
    def resolve(self, query: str, level: str | None = None, departement: str | None = None) -> Found:
        text = (query or "").strip()
        if not text:
            raise TerritoryNotFoundError(query or "", [])
        lvl = codes.parse_level(level)
        dep = departement_filter(departement)

        split = codes.split_key(text)
        if split is not None:
            key_level, rest = split
            if lvl is not None and lvl != key_level:
                raise TerritoryNotFoundError(text, [f"{key_level}:{rest}"], level=lvl)
            if codes.looks_like_code(rest):
                return self.get(rest, level=key_level), None, "key"
            return self._resolve_name(rest, key_level, dep, original=text)

        if codes.looks_like_code(text):
            return self._resolve_code(text, lvl)

        m = codes.TRAILING_DEPARTEMENT.match(text)
        if m and dep is None:
            return self._resolve_name(m.group(1), lvl, codes.clean_code(m.group(2)), original=text)
        return self._resolve_name(text, lvl, dep, original=text)

    def _resolve_code(self, text: str, lvl: str | None) -> Found:
        s = self.store
        c = codes.clean_code(text)
        note_pad = None
        padded = codes.padded_candidates(c)
        if not s.rows_for_code(c) and padded and s.rows_for_code(padded):
            note_pad = wording.padded_note(c, padded)
            c = padded
        rows = [r for r in s.rows_for_code(c) if lvl is None or s.levels[r] == lvl]
        if rows:
            row = rows[0]
            notes = [note_pad] if note_pad else []
            if len(rows) > 1:
                notes.append(wording.shared_code_note(
                    c, (s.levels[row], s.names[row]), [(s.levels[r], s.names[r]) for r in rows[1:]]))
            how = "siren" if codes.SIREN.match(c) else "code"
            return row, " ".join(notes) or None, how
        if lvl in (None, "commune") and codes.COMMUNE_CODE.match(c):
            succ = self.successor(c)
            if succ is not None:
                code, note, typ = succ
                how = "arrondissement" if typ == "arrondissement-municipal" else "old_code"
                return self.get(code, level="commune"), note, how
            arr = self.arrondissement(c)
            if arr is not None:
                return arr
        raise TerritoryNotFoundError(text, self.code_suggestions(c), level=lvl)

    def candidates_filter(self, rows: list[int], lvl: str | None, dep: str | None) -> list[int]:
        s = self.store
        if lvl is not None:
            rows = [r for r in rows if s.levels[r] == lvl]
        if dep is not None:
            deps = s.column("departement_code")
            rows = [r for r in rows if deps[r] == dep or (s.levels[r] == "departement" and s.codes[r] == dep)]
        return rows

    def _resolve_name(self, text: str, lvl: str | None, dep: str | None, *, original: str) -> Found:
        from planeco_kernel.territory.names import BARE, COMPACT, EXACT, PREFIX, WORD

        s = self.store
        idx = self.names
        how_by_tier = {EXACT: "name", BARE: "name", COMPACT: "name", PREFIX: "name_prefix", WORD: "name_word"}
        tiers = ((EXACT, idx.exact), (BARE, idx.exact_bare), (COMPACT, idx.compact), (PREFIX, idx.prefix),
                 (WORD, idx.word))
        for tier, finder in tiers:
            rows = self.candidates_filter(finder(text), lvl, dep)
            if not rows:
                continue
            # The level of the most populous candidate wins (ties: the smallest level), so that
            # "Paris" is the commune, "La Réunion" the département rather than a village.
            lead = min(rows, key=lambda r: (-(s.column("population")[r] or 0), RANK[s.levels[r]]))
            best = [r for r in rows if s.levels[r] == s.levels[lead]]
            if len(best) > 1:
                raise self._ambiguous(original, best, text)
            row = best[0]
            notes: list[str] = []
            if tier in (PREFIX, WORD):
                notes.append(wording.interpreted_note(original, self.label(row)))
            others = [r for r in rows if r != row]
            if others:
                others.sort(key=lambda r: (RANK[s.levels[r]], self.rank_key(r)))
                notes.append(wording.also_note([(self.label(r), f"{s.levels[r]}:{s.codes[r]}") for r in others[:5]]))
            return row, " ".join(notes) or None, how_by_tier[tier]

        fuzzy = [(r, sc) for r, sc in idx.fuzzy(text, limit=40) if self.candidates_filter([r], lvl, dep)]
        if fuzzy:
            best_row, best_score = fuzzy[0]
            runner = fuzzy[1][1] if len(fuzzy) > 1 else 0.0
            if best_score >= FUZZY_ACCEPT and best_score - runner >= FUZZY_MARGIN:
                return best_row, wording.fuzzy_note(original, self.label(best_row)), "name_fuzzy"
        raise TerritoryNotFoundError(original, [self.label(r) for r, _s in fuzzy[:5]], level=lvl)

    def _ambiguous(self, original: str, rows: list[int], name: str) -> AmbiguousTerritoryError:
        """The error for several equally good candidates, most populous first, with a hint."""
        rows = sorted(rows, key=self.rank_key)
        labels = [self.label(r) for r in rows[:12]] + ([f"… ({len(rows) - 12} autres)"] if len(rows) > 12 else [])
        exc = AmbiguousTerritoryError(original, labels)
        deps = self.store.column("departement_code")
        if self.store.levels[rows[0]] in ("commune", "epci", "scot") and deps[rows[0]]:
            exc.args = (wording.ambiguous_hint(str(exc), name, deps[rows[0]]),)
        return exc

    # -- search ---------------------------------------------------------------------------------
    def search(self, text: str, level: str | None = None, limit: int = 20,
               departement: str | None = None) -> list[int]:
        lvl = codes.parse_level(level)
        dep = departement_filter(departement)
        text = (text or "").strip()
        if not text or limit <= 0:
            return []
        out: dict[int, None] = {}
        if codes.looks_like_code(text) or codes.split_key(text):
            try:
                row = self.get(text, level=lvl)
                if self.candidates_filter([row], lvl, dep):
                    out[row] = None
            except TerritoryNotFoundError:
                pass
        idx = self.names
        for finder in (idx.exact, idx.exact_bare, idx.compact, idx.prefix, idx.word):
            if len(out) >= limit:
                break
            rows = [r for r in self.candidates_filter(finder(text), lvl, dep) if r not in out]
            rows.sort(key=self.rank_key)
            for r in rows:
                out.setdefault(r, None)
        if not out:  # approximate names only when nothing matches literally
            for r, _s in idx.fuzzy(text, limit=limit * 3, cutoff=0.6):
                if r not in out and self.candidates_filter([r], lvl, dep):
                    out[r] = None
        return list(out)[:limit]

    # -- old codes, arrondissements -------------------------------------------------------------
    def successor(self, code: str) -> tuple[str, str, str] | None:
        """For a commune code that is no longer current: ``(current code, French note, type)``.

        ``type`` is the code's last type in ``code_history`` (``commune-deleguee``,
        ``arrondissement-municipal``, ``absent``…).
        """
        import pyarrow.compute as pc

        s = self.store
        t = s.code_history()
        sub = t.filter(pc.equal(t.column("code"), code))
        if sub.num_rows == 0:
            return None
        sub = sub.sort_by([("vintage", "descending")])
        last = {name: sub.column(name)[0].as_py() for name in sub.schema.names}
        current = last.get("current_code")
        if not current or (current == code and ("commune", code) in s.by_key):
            return None
        if ("commune", current) not in s.by_key:
            return None
        typ = last.get("type") or ""
        note = last.get("note")
        if not note:
            note = wording.successor_note(code, last.get("name"), typ, last.get("vintage"), current,
                                          s.name_of("commune", current))
        if typ == "arrondissement-municipal":
            note = wording.whole_commune(note)
        return current, note, typ

    def arrondissement(self, code: str) -> Found | None:
        """Municipal arrondissements (Paris, Lyon, Marseille) from ``cog/communes.parquet``, if present."""
        s = self.store
        t = s.read_where("cog_communes", ["vintage", "code", "name", "type", "chef_lieu"],
                         {"code": code, "type": "arrondissement-municipal"})
        if t is None or t.num_rows == 0:
            return None
        t = t.sort_by([("vintage", "descending")])
        name, parent = t.column("name")[0].as_py(), t.column("chef_lieu")[0].as_py()
        if not parent or ("commune", parent) not in s.by_key:
            return None
        note = wording.arrondissement_note(code, name, parent, s.name_of("commune", parent))
        return self.get(parent, level="commune"), note, "arrondissement"


def departement_filter(value: str | None) -> str | None:
    """A département filter as given by a user: ``"1"`` → ``"01"``, ``"2a"`` → ``"2A"``."""
    if not value:
        return None
    c = codes.clean_code(value)
    return "0" + c if c.isdigit() and len(c) == 1 else c
