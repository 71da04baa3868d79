"""One exception hierarchy for planeco.

Every error a user can meet says what went wrong *and how to fix it*; callers catch
:class:`PlanecoError` to turn any of them into a clean message (the CLI does).
"""

from __future__ import annotations


class PlanecoError(Exception):
    """Base class of every error raised on purpose by planeco."""


class ConfigError(PlanecoError):
    """A setting (environment variable, option, settings file) is invalid."""


class SourceUnavailableError(PlanecoError):
    """A data source cannot be reached (no network, no npm, no mirror, nothing cached)."""


class ChecksumError(PlanecoError):
    """A downloaded or cached file does not match its expected checksum."""


class SchemaError(PlanecoError):
    """A table does not have the expected columns, types or values (upstream format change)."""


class BundleError(PlanecoError):
    """The data bundle is missing, incomplete or corrupt."""


class GeometryUnavailable(BundleError):
    """The data bundle has no display geometries at all (carries the French reason)."""


class KernelStartError(PlanecoError, RuntimeError):
    """A report kernel failed to start or to warm up (transient: the runner retries with another)."""


class TerritoryNotFoundError(PlanecoError, LookupError):
    """No territory matches a code or name; carries suggestions when there are close matches."""

    def __init__(self, query: str, suggestions: list[str] | None = None, level: str | None = None):
        self.query = query
        self.suggestions = list(suggestions or [])
        self.level = level
        where = f" au niveau « {level} »" if level else ""
        msg = f"Territoire inconnu{where} : « {query} »."
        if self.suggestions:
            msg += " Vouliez-vous dire : " + ", ".join(self.suggestions) + " ?"
        else:
            msg += " Essayez `planeco territory search TEXTE` pour chercher par nom."
        super().__init__(msg)


class AmbiguousTerritoryError(PlanecoError, LookupError):
    """A name matches several territories; carries the candidates."""

    def __init__(self, query: str, candidates: list[str]):
        self.query = query
        self.candidates = list(candidates)
        super().__init__(
            f"« {query} » désigne plusieurs territoires : "
            + ", ".join(self.candidates)
            + ". Précisez le code INSEE/SIREN ou le niveau (--level)."
        )
