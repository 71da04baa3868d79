"""Strict CSV reading for the source connectors: plain files or ZIP members, streamed.

Every value stays a string (codes keep their leading zeros), empty cells become missing; a file
that stops in the middle of a record or an archive raises :class:`TruncatedFileError`, a changed
layout (missing columns, rows longer than the header, another encoding) raises
:class:`~planeco_kernel.errors.SchemaError` naming the file. Re-exported by
:mod:`planeco_kernel.sources.base`, where connectors find them.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pandas as pd

from planeco_kernel.errors import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from planeco_kernel.sources.base import Release


class TruncatedFileError(SchemaError):
    """A file ends in the middle of a record or archive: an interrupted download or copy."""


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

    def open(self) -> IO[bytes]:
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
