"""What every source connector shares: releases, fetching, strict CSV reading, validation, tidy frames.

One module per official source (``filosofi``, ``insee_rp``, ``cerema_conso``, ``ademe_dpe``,
``sitadel``, ``energy``, ``ghg``) fetches, parses and validates its files with the helpers here,
PUDL style: each connector declares its releases and its columns once, and an upstream format
change fails loudly with :class:`~planeco_kernel.errors.SchemaError` naming the file and the
columns, e.g. ``"filosofi_com_2016.csv: missing columns ['MED16'] (expected …)"``.

The tidy output — decided once, here
------------------------------------
Every connector's ``load()`` returns a **long** frame with exactly the columns of
:data:`TIDY_COLUMNS`, one row per (territory, year, variable)::

    commune_code  year  variable              value    unit
    01004         2016  niveau_vie_median_eur 19721.0  EUR
    01004         2016  taux_pauvrete_pct     17.0     %

- ``commune_code`` (``string``): INSEE commune code, 5 characters, ``^[0-9][0-9AB][0-9]{3}$``
  (Corsica ``2A``/``2B`` kept). Connectors that read EPCI files use ``epci_siren`` (9 digits)
  instead, as the key column.
- ``year`` (``int16``): the reference year of the value (the income year for Filosofi, the census
  year for the RP, the year of the flow for land consumption, authorisations and energy).
- ``variable`` (``string``): a snake_case name that carries its meaning and unit
  (``conso_naf_habitat_ha``, ``conso_elec_residentiel_mwh``).
- ``value`` (``float64``): missing where the publisher withholds it (statistical secret), never 0.
- ``unit`` (``string``): ``EUR``, ``%``, ``ha``, ``MWh``, ``tCO2e``, ``logements``, ``DPE``,
  ``personnes``, ``ménages`` …

Long format was chosen over wide-per-year because the sources do not share their variables or
years; a long frame concatenates across sources and vintages, and pivots to wide with one call
(``df.pivot_table(index="commune_code", columns="variable", values="value")``).
"""

from __future__ import annotations

import csv
import fnmatch
import io
import logging
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planeco_kernel import config
from planeco_kernel.errors import SchemaError, SourceUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    from planeco_kernel.sources.fetch import Artifact, Cache

log = logging.getLogger(__name__)

TIDY_COLUMNS: tuple[str, ...] = ("commune_code", "year", "variable", "value", "unit")
"""Columns of every connector's tidy output (``epci_siren`` replaces ``commune_code`` for EPCI)."""

COMMUNE_CODE_PATTERN = r"^[0-9][0-9AB][0-9]{3}$"
"""INSEE commune code (metropolitan, Corsica 2A/2B, overseas 97x)."""

EPCI_SIREN_PATTERN = r"^[0-9]{9}$"
"""SIREN of an EPCI (9 digits)."""

YEAR_RANGE = (1990, 2100)


class TruncatedFileError(SchemaError):
    """A file ends in the middle of a record or archive: an interrupted download or copy."""


@dataclass(frozen=True)
class Release:
    """One published file of a source, for one vintage.

    Attributes
    ----------
    source_id
        The connector's id (``filosofi``, ``cerema_conso`` …).
    vintage
        Reference year of the data it holds; ``0`` for a file the publisher replaces in place
        (the year is then read from the file itself: census year, ``annee`` column …).
    url
        The publisher's official URL (``https://``) for this file.
    filename
        The official file name, used in every error message.
    mirror_path
        Where the file lies inside an offline mirror (``PLANECO_MIRROR``), if it is mirrored.
    member
        For a ZIP archive: the member to read (an exact name or an ``fnmatch`` pattern).
    sep, encodings
        CSV separator and the encodings tried in order (the first that decodes wins).
    note
        What a user must know about this vintage (e.g. that it is old), shown as a warning.
    extra
        Connector-specific facts: ``layout`` (``wide``/``long``), ``mirror_only`` (the publisher's
        own format is not readable, e.g. XLS), ``geo_object`` …
    """

    source_id: str
    vintage: int
    url: str
    filename: str
    mirror_path: str | None = None
    member: str | None = None
    sep: str = ";"
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252")
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- fetching


def resolve_mirror(mirror: str | Path | None) -> Path | None:
    """The mirror directory to use: the argument, else ``PLANECO_MIRROR``, else none."""
    return config.mirror_dir(mirror)


def obtain(
    release: Release,
    *,
    mirror: str | Path | None = None,
    url: str | None = None,
    cache: Cache | None = None,
    sha256: str | None = None,
) -> Artifact:
    """Get a release's file: from the mirror when it holds it, else from the publisher (cached).

    Parameters
    ----------
    release
        The file to get.
    mirror
        Mirror directory (default ``PLANECO_MIRROR``); used when it contains ``release.mirror_path``.
    url
        Override of the official URL (another vintage, a test server, a ``file://`` copy).

    Raises
    ------
    SourceUnavailableError
        Neither the mirror nor the cache holds the file and the publisher cannot be reached.
    """
    from planeco_kernel.sources.fetch import fetch_url
    from planeco_kernel.sources.identity import verify

    if url is None:
        root = resolve_mirror(mirror)
        if root is not None and release.mirror_path:
            candidate = root / release.mirror_path
            if candidate.is_file():
                art = fetch_url(candidate.resolve().as_uri(), sha256=sha256, cache=cache)
                verify(release.mirror_path, art.sha256, where=str(candidate))  # declared identity (registry)
                return art
    if url is None and release.extra.get("mirror_only"):
        raise SourceUnavailableError(
            f"{release.source_id} {release.vintage} : « {release.filename} » n'est lisible que depuis le miroir hors "
            f"ligne ({release.mirror_path}) ; l'éditeur ne le publie pas dans un format que planeco lit "
            f"({release.url}). Indiquez le miroir avec --mirror / PLANECO_MIRROR."
        )
    target = url or release.url
    try:
        art = fetch_url(target, sha256=sha256, cache=cache)
        verify(target, art.sha256, where=target)
        return art
    except SourceUnavailableError as exc:
        hint = (
            f" Sans accès à {release.url}, placez le fichier officiel « {release.filename} » dans "
            f"le miroir ({release.mirror_path or release.filename}) et indiquez-le avec --mirror / PLANECO_MIRROR."
        )
        raise SourceUnavailableError(str(exc) + hint) from exc


# --------------------------------------------------------------------------- reading


def _zip_member(zf: zipfile.ZipFile, pattern: str | None, name: str) -> str:
    names = [n for n in zf.namelist() if not n.endswith("/")]
    if pattern is None:
        candidates = [n for n in names if n.lower().endswith((".csv", ".txt"))]
    else:
        candidates = [n for n in names if n == pattern or fnmatch.fnmatch(Path(n).name, pattern)]
    if len(candidates) != 1:
        raise SchemaError(
            f"{name}: the archive has {len(candidates)} members matching {pattern or '*.csv'!r} "
            f"(members: {names[:10]}); the publisher changed the archive layout. "
            "Update the connector's release (member) or pass the right file."
        )
    return candidates[0]


def read_csv_text(
    text: str,
    *,
    name: str,
    sep: str,
    required: Iterable[str] = (),
    usecols: Iterable[str] | None = None,
    check_truncation: bool = True,
) -> pd.DataFrame:
    """Parse CSV text into an all-string frame, strictly.

    Every value stays a string (codes keep their leading zeros); empty cells become missing.

    Raises
    ------
    TruncatedFileError
        The text stops in the middle of a record (no final newline and a short last row).
    SchemaError
        Missing required columns, or rows with more fields than the header.
    """
    if not text.strip():
        raise TruncatedFileError(f"{name}: le fichier est vide. Téléchargement interrompu ? Relancez-le.")
    header_line = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([header_line], delimiter=sep))
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise SchemaError(
            f"{name}: missing columns {missing} (expected {list(required)}; found {header[:12]}"
            f"{' …' if len(header) > 12 else ''}). The publisher changed the file layout: "
            "update the connector or use a matching vintage."
        )
    if check_truncation and not text.endswith("\n"):
        _check_last_line(text.rsplit("\n", 1)[-1], len(header), sep=sep, name=name)
    wanted = None if usecols is None else [c for c in header if c in set(usecols)]
    try:
        with warnings.catch_warnings():
            # A row longer than the header must not silently become an index or lose fields.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                usecols=wanted, index_col=False, engine="c",
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise SchemaError(
            f"{name}: malformed CSV, rows do not match the header of {len(header)} columns ({exc}). "
            "The file is corrupt or its layout changed."
        ) from exc
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


_PEEK = 1 << 16


class TableFile:
    """A CSV file, plain or inside a ZIP archive, that can be reopened as a binary stream.

    Big national files (the census dossier complet, Sit@del) are several hundred MB once
    decompressed: they are streamed to pandas with only the needed columns, never held whole in
    memory as text.
    """

    def __init__(self, path: Path, *, name: str, member: str | None = None):
        self.path = Path(path)
        self.member: str | None = None
        with open(self.path, "rb") as f:
            magic = f.read(2)
        if magic == b"PK":
            try:
                with zipfile.ZipFile(self.path) as zf:
                    self.member = _zip_member(zf, member, name)
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise _zip_truncated(name, exc) from exc
            self.name = f"{name}!{self.member}"
        else:
            self.name = name

    def open(self) -> io.BufferedIOBase:
        """A fresh binary stream over the CSV bytes (closing it closes the archive too)."""
        if self.member is None:
            return open(self.path, "rb")
        zf = zipfile.ZipFile(self.path)
        stream = zf.open(self.member)
        close = stream.close

        def _close() -> None:
            close()
            zf.close()

        stream.close = _close  # type: ignore[method-assign]
        return stream

    def head(self, n: int = _PEEK) -> bytes:
        try:
            with self.open() as f:
                return f.read(n)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise _zip_truncated(self.name, exc) from exc

    def tail(self, n: int = _PEEK) -> bytes | None:
        """The last bytes of a plain file (``None`` inside a ZIP: the archive's CRC guards the end)."""
        if self.member is not None:
            return None
        with open(self.path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read()


def _zip_truncated(name: str, exc: Exception) -> TruncatedFileError:
    return TruncatedFileError(
        f"{name}: archive ZIP tronquée ou corrompue ({exc}). Le téléchargement a été interrompu : "
        "supprimez le fichier du cache (PLANECO_CACHE) ou du miroir et relancez."
    )


def peek_header(table: TableFile, *, sep: str, encodings: Sequence[str]) -> tuple[list[str], str]:
    """The header names of a table and the first encoding that decodes its beginning."""
    head = table.head()
    if not head.strip():
        raise TruncatedFileError(f"{table.name}: le fichier est vide. Téléchargement interrompu ? Relancez-le.")
    cut = head[: head.rfind(b"\n")] if b"\n" in head else head
    for enc in encodings:
        try:
            text = cut.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SchemaError(f"{table.name}: cannot decode the file with any of {list(encodings)}; the publisher changed the encoding.")
    header_line = text.split("\n", 1)[0].rstrip("\r")
    header = [h.strip().lstrip("\ufeff") for h in next(csv.reader([header_line], delimiter=sep))]
    return header, enc


def read_csv(
    path: Path,
    release: Release,
    *,
    required: Iterable[str] = (),
    usecols: Iterable[str] | None = None,
    name: str | None = None,
    header_map: Callable[[str], str] | None = None,
) -> pd.DataFrame:
    """Read a release's CSV (plain or inside a ZIP) into an all-string frame, strictly and streamed.

    Parameters
    ----------
    required
        Columns that must be present (else :class:`SchemaError` naming the file and the columns).
    usecols
        Columns to keep (default: all).
    header_map
        Normalisation of header names before matching (e.g. ``str.upper`` when a publisher
        changes the case of its column names between vintages).

    Raises
    ------
    TruncatedFileError
        Truncated archive, or a plain file that stops in the middle of a record.
    SchemaError
        Missing columns, undecodable text, rows longer than the header.
    """
    table = TableFile(path, name=name or release.filename, member=release.member)
    header, encoding = peek_header(table, sep=release.sep, encodings=release.encodings)
    mapped = [header_map(h) if header_map else h for h in header]
    required = list(required)
    missing = [c for c in required if c not in mapped]
    if missing:
        raise SchemaError(
            f"{table.name}: missing columns {missing} (expected {required}; found {mapped[:12]}"
            f"{' …' if len(mapped) > 12 else ''}). The publisher changed the file layout: "
            "update the connector or use a matching vintage."
        )
    tail = table.tail()
    if tail is not None and not tail.endswith(b"\n"):
        last = tail.rsplit(b"\n", 1)[-1].decode(encoding, errors="replace")
        _check_last_line(last, len(header), sep=release.sep, name=table.name)
    keep = None if usecols is None else set(usecols)
    wanted = None if keep is None else [h for h, m in zip(header, mapped) if m in keep]
    tried = [encoding, *[e for e in release.encodings if e != encoding]]
    for i, enc in enumerate(tried):
        try:
            with table.open() as stream, warnings.catch_warnings():
                # A row longer than the header must not silently become an index or lose fields.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(
                    stream, sep=release.sep, dtype=str, keep_default_na=False, na_values=[""],
                    usecols=wanted, index_col=False, encoding=enc, engine="c",
                    escapechar=release.extra.get("escapechar"),  # a parsing fact of the connector's release
                )
            break
        except UnicodeDecodeError:
            if i == len(tried) - 1:
                raise SchemaError(f"{table.name}: cannot decode the file with any of {tried}.") from None
        except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
            raise SchemaError(
                f"{table.name}: malformed CSV, rows do not match the header of {len(header)} columns ({exc}). "
                "The file is corrupt or its layout changed."
            ) from exc
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise _zip_truncated(table.name, exc) from exc
    cleaned = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    df.columns = [header_map(c) if header_map else c for c in cleaned]
    df.attrs["source_name"] = table.name
    return df


def _check_last_line(last: str, n_fields: int, *, sep: str, name: str) -> None:
    fields = next(csv.reader([last], delimiter=sep)) if last else []
    if len(fields) != n_fields or last.count('"') % 2:
        raise TruncatedFileError(
            f"{name}: le fichier s'arrête au milieu d'une ligne ({len(fields)} champs sur {n_fields}). "
            "Le téléchargement a été interrompu : supprimez-le du cache (PLANECO_CACHE) ou du miroir et relancez."
        )


# --------------------------------------------------------------------------- checking


def require_columns(df: pd.DataFrame, expected: Sequence[str], *, name: str) -> None:
    """Raise :class:`SchemaError` naming the file and the missing columns."""
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise SchemaError(f"{name}: missing columns {missing} (expected {list(expected)})")


def check_codes(values: pd.Series, *, name: str, column: str, pattern: str = COMMUNE_CODE_PATTERN) -> pd.Series:
    """Check territory codes against ``pattern`` (strings, stripped); return them.

    Raises
    ------
    SchemaError
        Naming the file, the column, the number of bad codes and the first ones.
    """
    codes = values.astype("string").str.strip()
    bad = codes[codes.isna() | ~codes.str.fullmatch(pattern.strip("^$")).fillna(False)]
    if len(bad):
        sample = [str(v) for v in bad.head(5).tolist()]
        raise SchemaError(
            f"{name}: {len(bad)} invalid codes in column {column!r} (expected {pattern}), e.g. {sample}. "
            "Codes must be text with their leading zeros (01001, 2A004): the file was probably "
            "re-saved by a spreadsheet that turned them into numbers."
        )
    return codes


def to_numeric(df: pd.DataFrame, columns: Iterable[str], *, name: str, decimal_comma: bool = False) -> pd.DataFrame:
    """Convert string columns to ``float64``; empty stays missing, anything unparseable is an error.

    Raises
    ------
    SchemaError
        Naming the file, the columns and sample values that are not numbers.
    """
    out = df.copy()
    problems: list[str] = []
    for col in columns:
        raw = out[col].astype("string").str.strip()
        if decimal_comma:
            raw = raw.str.replace(",", ".", regex=False)
        num = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (raw != "") & num.isna()
        if bad.any():
            problems.append(f"{col} {raw[bad].head(3).tolist()}")
        out[col] = num.astype("float64")
    if problems:
        raise SchemaError(f"{name}: non-numeric values in columns " + "; ".join(problems))
    return out


def check_ranges(df: pd.DataFrame, ranges: Mapping[str, tuple[float, float]], *, name: str) -> None:
    """Validate numeric columns against (min, max) ranges with pandera; errors name file and columns.

    Missing values are allowed (statistical secret); values outside their range are not.
    """
    import pandera.pandas as pa

    schema = pa.DataFrameSchema(
        {col: pa.Column(float, pa.Check.in_range(lo, hi), nullable=True, required=True) for col, (lo, hi) in ranges.items()},
        strict=False,
        coerce=False,
    )
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SchemaError(f"{name}: {_summarise_pandera(exc)}") from None


def _summarise_pandera(exc: Any) -> str:
    fc = exc.failure_cases
    parts: list[str] = []
    for col, grp in fc.groupby("column", dropna=False, sort=False):
        checks = ", ".join(sorted({str(c) for c in grp["check"]}))
        sample = [v for v in grp["failure_case"].head(3).tolist()]
        parts.append(f"column {col!r} fails {checks} ({len(grp)} values, e.g. {sample})")
    return "; ".join(parts) + ". The values are out of their documented range: the publisher changed units or layout."


def validate_tidy(df: pd.DataFrame, *, name: str, key: str = "commune_code") -> pd.DataFrame:
    """Validate a connector's tidy output against the declared long schema (pandera).

    Returns the frame with normalised dtypes and columns in :data:`TIDY_COLUMNS` order.
    """
    import pandera.pandas as pa

    pattern = COMMUNE_CODE_PATTERN if key == "commune_code" else EPCI_SIREN_PATTERN
    cols = (key,) + TIDY_COLUMNS[1:]
    require_columns(df, cols, name=name)
    out = df.loc[:, list(cols)].copy()
    out[key] = out[key].astype("string")
    out["year"] = out["year"].astype("int16")
    out["variable"] = out["variable"].astype("string")
    out["value"] = out["value"].astype("float64")
    out["unit"] = out["unit"].astype("string")
    out = out.reset_index(drop=True)
    dup = out.duplicated([key, "year", "variable"])
    if dup.any():
        sample = out.loc[dup, [key, "year", "variable"]].head(3).values.tolist()
        raise SchemaError(f"{name} (tidy output): {int(dup.sum())} duplicated keys ({key}, year, variable), e.g. {sample}")
    schema = pa.DataFrameSchema(
        {
            key: pa.Column("string", pa.Check.str_matches(pattern), nullable=False),
            "year": pa.Column("int16", pa.Check.in_range(*YEAR_RANGE), nullable=False),
            "variable": pa.Column("string", pa.Check.str_matches(r"^[a-z0-9_]+$"), nullable=False),
            "value": pa.Column("float64", nullable=True),
            "unit": pa.Column("string", nullable=False),
        },
        strict=True,
        ordered=True,
    )
    try:
        return schema.validate(out, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SchemaError(f"{name} (tidy output): {_summarise_pandera(exc)}") from None


def melt(
    wide: pd.DataFrame,
    *,
    key: str,
    year: int | str,
    variables: Mapping[str, tuple[str, str]],
    key_name: str = "commune_code",
) -> pd.DataFrame:
    """Turn a wide frame (one column per source variable) into the tidy long frame.

    Parameters
    ----------
    wide
        Frame with ``key`` and the numeric source columns named in ``variables``.
    year
        The reference year for every row (an ``int``), or the name of the column that holds it.
    variables
        ``{source_column: (variable_name, unit)}``; columns absent from ``wide`` are skipped.
    """
    cols = [c for c in variables if c in wide.columns]
    ids = [key] if isinstance(year, int) else [key, year]
    long = wide.loc[:, [*ids, *cols]].melt(id_vars=ids, var_name="_src", value_name="value")
    codes = pd.Categorical(long["_src"], categories=cols).codes  # vectorised lookup, no per-row dict map
    long["variable"] = np.asarray([variables[c][0] for c in cols], dtype=object)[codes]
    long["unit"] = np.asarray([variables[c][1] for c in cols], dtype=object)[codes]
    if isinstance(year, int):
        long["year"] = year
    else:
        long = long.rename(columns={year: "year"})
    long = long.rename(columns={key: key_name})
    return long[[key_name, "year", "variable", "value", "unit"]].reset_index(drop=True)


def warn_vintage(release: Release) -> None:
    """Emit a visible warning when a release carries a vintage note (old data, provisional …)."""
    if release.note:
        warnings.warn(f"{release.source_id} {release.vintage} : {release.note}", VintageWarning, stacklevel=3)


class VintageWarning(UserWarning):
    """The data loaded is an old or special vintage; the message says which and what is newer."""


def year_prefix_columns(columns: Iterable[str], regex: str) -> list[int]:
    """Two-digit years found in column names by ``regex`` (one group), as full years, sorted."""
    found = {2000 + int(m.group(1)) for c in columns if (m := re.fullmatch(regex, c))}
    return sorted(found)
