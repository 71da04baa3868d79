"""Normalizing French territory names and finding them fast (exact, prefix, word, fuzzy).

A name is reduced to a *normal form*: lower case, accents removed, ligatures expanded
(``œ`` → ``oe``), hyphens, apostrophes and punctuation turned into single spaces, and the
abbreviations ``St``/``Ste`` expanded to ``saint``/``sainte``. A second, *bare* form also drops
a leading article (``le``, ``la``, ``les``, ``l``) and the INSEE-style trailing article in
parentheses (``Abergement-Clémenciat (L')``), so that ``Abergement Clemenciat`` finds
``L'Abergement-Clémenciat`` and ``Mans`` finds ``Le Mans``.

:class:`NameIndex` holds the normal forms of every territory name and answers, in order of
preference: exact normal form, exact bare form, same letters without spaces (``dolonne`` for
``d'Olonne``), prefix (binary search in a sorted list), start
of a word inside the name, then fuzzy candidates from a trigram index re-scored with
:class:`difflib.SequenceMatcher`. Every structure is built once, on first use.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

ARTICLES: frozenset[str] = frozenset({"le", "la", "les", "l"})
"""Leading articles dropped in the bare form."""

ABBREVIATIONS: dict[str, str] = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
"""Word abbreviations expanded in the normal form."""

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_NON_WORD = re.compile(r"[^0-9a-z]+")
_TRAILING_ARTICLE = re.compile(r"\s*\((?:l'|l’|le|la|les)\)\s*$", re.IGNORECASE)

# Match tiers, best first (lower is better).
EXACT, BARE, COMPACT, PREFIX, WORD, FUZZY = 0, 1, 2, 3, 4, 5


def _fold_table() -> dict[int, str]:
    """``str.translate`` table: accented Latin letters to ASCII, ligatures expanded."""
    table: dict[int, str] = {}
    for cp in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(cp)
        folded = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if folded != ch and folded.isascii():
            table[cp] = folded
    table.update({ord(k): v for k, v in {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"}.items()})
    return table


_FOLD = _fold_table()


def _normalize(text: str) -> str:
    s = text.translate(_FOLD)
    if not s.isascii():  # rare characters: full Unicode decomposition
        s = unicodedata.normalize("NFKD", s.translate(_LIGATURES))
        s = "".join(ch for ch in s if not unicodedata.combining(ch))
    words = _NON_WORD.sub(" ", s.lower()).split()
    return " ".join([ABBREVIATIONS.get(w, w) for w in words])


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Return the normal form of a name (accent-, case- and punctuation-insensitive).

    Parameters
    ----------
    text : str
        Any spelling of a territory name.

    Returns
    -------
    str
        Lower-case ASCII words separated by single spaces, ``st``/``ste`` expanded.

    Examples
    --------
    >>> normalize("St-Étienne")
    'saint etienne'
    >>> normalize("L'Haÿ-les-Roses")
    'l hay les roses'
    """
    return _normalize(text)


def _strip_article(norm: str) -> str:
    head, sep, rest = norm.partition(" ")
    return rest if sep and head in ARTICLES else norm


def bare(text: str) -> str:
    """Return the normal form without its article (leading, or trailing INSEE-style ``(L')``).

    Examples
    --------
    >>> bare("L'Abergement-Clémenciat")
    'abergement clemenciat'
    >>> bare("Abergement-Clémenciat (L')")
    'abergement clemenciat'
    >>> bare("Les")
    'les'
    """
    if "(" in text:
        text = _TRAILING_ARTICLE.sub("", text)
    return _strip_article(normalize(text))


def trigrams(norm: str) -> set[str]:
    """Character trigrams of a normal form, padded with spaces at both ends."""
    padded = f"  {norm} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class NameIndex:
    """Fast look-up of names by normal form, prefix, word and fuzzy similarity.

    Parameters
    ----------
    names : sequence of str
        One official name per item; item ids are positions in this sequence.
    """

    def __init__(self, names: Sequence[str]):
        self._names = list(names)
        self._norm = [_normalize(n) for n in self._names]
        self._bare = [
            _strip_article(_normalize(_TRAILING_ARTICLE.sub("", n)) if "(" in n else nm)
            for n, nm in zip(self._names, self._norm, strict=True)
        ]
        self._exact: dict[str, list[int]] = {}
        self._bare_index: dict[str, list[int]] = {}
        for i, n in enumerate(self._norm):
            self._exact.setdefault(n, []).append(i)
        for i, b in enumerate(self._bare):
            self._bare_index.setdefault(b, []).append(i)
        self._compact_index: dict[str, list[int]] | None = None
        # Sorted (form, id) pairs over both forms, for prefix search by bisection.
        forms = self._norm + [b for b, n in zip(self._bare, self._norm, strict=True) if b != n]
        ids = list(range(len(self._norm))) + [i for i, (b, n) in enumerate(zip(self._bare, self._norm)) if b != n]
        order = sorted(range(len(forms)), key=forms.__getitem__)
        self._sorted_forms = [forms[k] for k in order]
        self._sorted_ids = [ids[k] for k in order]
        self._padded: list[str] | None = None  # " " + norm + " " per id, for word search (built on first use)
        self._tri: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._names)

    def norm(self, i: int) -> str:
        """The normal form of item ``i``."""
        return self._norm[i]

    def exact(self, query: str) -> list[int]:
        """Items whose normal form equals the query's."""
        return list(self._exact.get(normalize(query), ()))

    def exact_bare(self, query: str) -> list[int]:
        """Items whose bare form (article dropped) equals the query's bare form."""
        return list(self._bare_index.get(bare(query), ()))

    def compact(self, query: str) -> list[int]:
        """Items equal to the query once spaces are removed too (``"dolonne"`` = ``"d'Olonne"``)."""
        if self._compact_index is None:
            acc: dict[str, list[int]] = {}
            for i, (n, b) in enumerate(zip(self._norm, self._bare, strict=True)):
                for form in {n.replace(" ", ""), b.replace(" ", "")}:
                    acc.setdefault(form, []).append(i)
            self._compact_index = acc
        q = normalize(query)
        forms = {q.replace(" ", ""), _strip_article(q).replace(" ", "")}
        out: dict[int, None] = {}
        for f in forms:
            for i in self._compact_index.get(f, ()):
                out.setdefault(i, None)
        return list(out)

    def prefix(self, query: str) -> list[int]:
        """Items whose normal or bare form starts with the query's normal form."""
        q = normalize(query)
        if not q:
            return []
        lo = bisect.bisect_left(self._sorted_forms, q)
        hi = bisect.bisect_left(self._sorted_forms, q + "\x7f", lo)
        seen: dict[int, None] = {}
        for k in range(lo, hi):
            seen.setdefault(self._sorted_ids[k], None)
        return list(seen)

    def word(self, query: str) -> list[int]:
        """Items where the query's normal form starts a word inside the name (linear scan)."""
        q = normalize(query)
        if not q:
            return []
        padded = self._padded
        if padded is None:
            padded = self._padded = [f" {n}" for n in self._norm]
        needle = f" {q}"
        return [i for i, p in enumerate(padded) if needle in p]

    def _trigram_index(self) -> dict[str, np.ndarray]:
        if self._tri is None:
            acc: dict[str, list[int]] = {}
            for i, n in enumerate(self._norm):
                for t in trigrams(n):
                    acc.setdefault(t, []).append(i)
            self._tri = {t: np.asarray(ids, dtype=np.int32) for t, ids in acc.items()}
        return self._tri

    def fuzzy(self, query: str, limit: int = 10, *, shortlist: int = 200, cutoff: float = 0.6) -> list[tuple[int, float]]:
        """Items most similar to the query, best first, with a similarity in [0, 1].

        Candidates sharing the most trigrams with the query are re-scored with
        :class:`difflib.SequenceMatcher` on the normal and bare forms.
        """
        q = normalize(query)
        if not q:
            return []
        tri = self._trigram_index()
        hits = [tri[t] for t in trigrams(q) if t in tri]
        if not hits:
            return []
        counts = np.bincount(np.concatenate(hits), minlength=len(self._norm))
        k = min(shortlist, int((counts > 0).sum()))
        top = np.argpartition(-counts, k - 1)[:k] if k < len(counts) else np.arange(len(counts))
        scored: list[tuple[int, float]] = []
        qb = bare(query)
        for i in top.tolist():
            if counts[i] == 0:
                continue
            sm = SequenceMatcher(None, q, self._norm[i], autojunk=False)
            score = sm.ratio()
            if qb != q or self._bare[i] != self._norm[i]:
                score = max(score, SequenceMatcher(None, qb, self._bare[i], autojunk=False).ratio())
            if score >= cutoff:
                scored.append((i, score))
        scored.sort(key=lambda p: (-p[1], self._norm[p[0]]))
        return scored[:limit]
