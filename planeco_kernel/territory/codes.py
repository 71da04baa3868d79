"""Recognizing territory codes and level names in user input.

Pure functions, no data: they tell what a string *looks like* (a commune code, a SIREN, a
département/région code, a canonical ``level:code`` key) so that the model knows where to look.
"""

from __future__ import annotations

import re

from planeco_kernel.bundle.schema import FRANCE_CODE, LEVELS
from planeco_kernel.errors import ConfigError

LEVEL_ALIASES: dict[str, str] = {
    "commune": "commune", "communes": "commune", "com": "commune",
    "epci": "epci", "interco": "epci", "intercommunalite": "epci", "intercommunalité": "epci",
    "scot": "scot",
    "departement": "departement", "département": "departement", "dep": "departement", "dept": "departement",
    "region": "region", "région": "region", "reg": "region",
    "france": "france", "pays": "france", "fr": "france",
}
"""Accepted spellings of each level (lower case)."""

COMMUNE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
SIREN = re.compile(r"^\d{9}$")
DEPARTEMENT_CODE = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")
REGION_CODE = re.compile(r"^\d{2}$")
KEY = re.compile(r"^\s*([A-Za-zéÉ]+)\s*:\s*(.+?)\s*$")
TRAILING_DEPARTEMENT = re.compile(r"^(.*\S)\s*\(\s*(\d{2}|2[ABab]|97\d)\s*\)\s*$")
"""``Saint-Denis (93)``: a name followed by a département code in parentheses."""


def parse_level(level: str | None) -> str | None:
    """Return the canonical level name for any accepted spelling, or ``None``.

    Raises
    ------
    ConfigError
        If the level is not one of :data:`~planeco_kernel.bundle.schema.LEVELS` (or an alias).
    """
    if level is None or level == "":
        return None
    canon = LEVEL_ALIASES.get(level.strip().lower())
    if canon is None:
        raise ConfigError(
            f"Niveau inconnu : « {level} ». Choisissez parmi : {', '.join(LEVELS)}."
        )
    return canon


def clean_code(text: str) -> str:
    """Upper-case a code and drop inner spaces (``"200 046 977"`` → ``"200046977"``, ``"2a004"`` → ``"2A004"``)."""
    s = text.strip().upper()
    compact = s.replace(" ", "").replace("\u00a0", "")
    if compact.isalnum() and (compact.isdigit() or re.fullmatch(r"2[AB]\d{0,3}|FR", compact)):
        return compact
    return s


def looks_like_code(text: str) -> bool:
    """True when the cleaned text can only be a code (digits, ``2A…``/``2B…``, ``FR``)."""
    c = clean_code(text)
    return bool(c == FRANCE_CODE or COMMUNE_CODE.match(c) or SIREN.match(c) or DEPARTEMENT_CODE.match(c)
                or re.fullmatch(r"\d{1,9}", c))


def split_key(text: str) -> tuple[str, str] | None:
    """Split a canonical key ``"level:code"`` (any level alias) into ``(level, rest)``; else ``None``."""
    m = KEY.match(text)
    if not m:
        return None
    canon = LEVEL_ALIASES.get(m.group(1).lower())
    if canon is None:
        return None
    return canon, m.group(2)


def padded_candidates(code: str) -> str | None:
    """A leading zero lost by a spreadsheet: ``"1001"`` → ``"01001"``, ``"1"`` → ``"01"``; else ``None``."""
    if code.isdigit() and len(code) in (1, 4, 8):
        return "0" + code
    return None
