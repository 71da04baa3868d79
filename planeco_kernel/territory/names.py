"""Normalizing French territory names and finding them fast (exact, prefix, word, fuzzy).

A name is reduced to a *normal form*: lower case, accents removed, ligatures expanded
(``œ`` → ``oe``), hyphens, apostrophes and punctuation turned into single spaces, and the
abbreviations ``St``/``Ste`` expanded to ``saint``/``sainte``. A second, *bare* form also drops
a leading article (``le``, ``la``, ``les``, ``l``) and the INSEE-style trailing article in
parentheses (``Abergement-Clémenciat (L')``), so that ``Abergement Clemenciat`` finds
``L'Abergement-Clémenciat`` and ``Mans`` finds ``Le Mans``.

:class:`NameIndex` holds the normal forms of every territory name and answers, in order of
preference: exact normal form, exact bare form, prefix (binary search in a sorted list), start
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
EXACT, BARE, PREFIX, WORD, FUZZY = 0, 1, 2, 3, 4
TIER_LABELS = {EXACT: "exact", BARE: "exact (sans article)", PREFIX: "début du nom", WORD: "mot du nom", FUZZY: "approché"}


@lru_cache(maxsize=65536)
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
    s = text.translate(_LIGATURES)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    words = _NON_WORD.sub(" ", s).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


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
    stripped = _TRAILING_ARTICLE.sub("", text)
    norm = normalize(stripped)
    words = norm.split(" ")
    if len(words) > 1 and words[0] in ARTICLES:
        return " ".join(words[1:])
    return norm


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
        self._norm = [normalize(n) for n in self._names]
        self._bare = [bare(n) for n in self._names]
        self._exact: dict[str, list[int]] = {}
        self._bare_index: dict[str, list[int]] = {}
        for i, (n, b) in enumerate(zip(self._norm, self._bare, strict=True)):
            self._exact.setdefault(n, []).append(i)
            self._bare_index.setdefault(b, []).append(i)
        # Sorted (form, id) pairs over both forms, for prefix search by bisection.
        pairs = sorted({(n, i) for i, n in enumerate(self._norm)} | {(b, i) for i, b in enumerate(self._bare)})
        self._sorted_forms = [p[0] for p in pairs]
        self._sorted_ids = [p[1] for p in pairs]
        self._padded = None  # " " + norm + " " per id, for word search (built on first use)
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
        if self._padded is None:
            self._padded = [f" {n}" for n in self._norm]
        needle = f" {q}"
        return [i for i, p in enumerate(self._padded) if needle in p]

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
