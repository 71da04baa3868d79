"""The catalogue of official open-data sources planeco reads, and what is reachable now.

:data:`SOURCES` lists each source once: id, French title, publisher, licence, official URL(s),
vintage(s), themes, and the connector module that reads it. :func:`available` tells, for each
source, whether its file is in the download cache, in the offline mirror, or reachable on the
network — without downloading anything (a ``HEAD`` request at most) — so that
``planeco data build`` can record which sources it skipped and why.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Literal

from planeco_kernel import config

log = logging.getLogger(__name__)


Status = Literal["cache", "mirror", "network", "unavailable"]

LICENCE_OUVERTE = "Licence Ouverte 2.0 (Etalab)"


@dataclass(frozen=True)
class FileIdentity:
    """The declared identity of one file the build reads: where it is, its bytes' sha256, its release."""

    key: str
    """Mirror-relative path (``banatic/groupements.csv``) or URL."""
    sha256: str
    release: str = ""


@dataclass(frozen=True)
class SourceInfo:
    """One official source, as declared in the source registry (``sources/registry.yaml``).

    Attributes
    ----------
    id
        Registry id; for ``kind == "indicator"``, also the connector module under
        :mod:`planeco_kernel.sources`.
    title, short
        French title of the dataset, and a short form (« Insee, Filosofi ») for compact labels.
    publisher, publisher_short, licence
        Who publishes it and under which licence.
    urls
        Official URLs: the file (or API) first, then documentation pages.
    homepage
        The page users are sent to.
    vintages, vintage_text
        Reference years available to planeco (``"courant"`` for files replaced in place), and
        what a user reads next to a value.
    geography
        COG vintage of the codes as published (an int, or a French description).
    levels
        Levels the publisher gives values for.
    coverage
        What part of France it covers (French).
    themes
        What it informs (French words used in the apps' filters).
    files
        Declared identity of every file the build reads (:class:`FileIdentity`).
    kind
        ``bundle`` (read by the territory steps of the build) or ``indicator`` (read through its
        connector by the indicator step).
    """

    id: str
    title: str
    publisher: str
    licence: str
    urls: tuple[str, ...]
    vintages: tuple[str, ...]
    themes: tuple[str, ...]
    release_attr: str = "RELEASE"
    short: str = ""
    publisher_short: str = ""
    homepage: str = ""
    vintage_text: str = ""
    geography: str = ""
    levels: tuple[str, ...] = ()
    coverage: str = ""
    files: tuple[FileIdentity, ...] = ()
    kind: str = "indicator"
    how_to_get: str = ""
    """How to obtain the source when the generic way (download at build time) does not apply."""
    partial_coverage: tuple[str, str] | None = None
    """``(where, elsewhere)`` for a source that covers only part of France: « données disponibles
    pour <where> ; ailleurs : <elsewhere> »."""

    def coverage_note(self) -> str:
        """« données disponibles pour la Métropole de Lyon (58 communes) ; ailleurs : … » (or ``""``)."""
        if self.partial_coverage is None:
            return ""
        where, elsewhere = self.partial_coverage
        return f"données disponibles pour {where} ; ailleurs : {elsewhere}"

    @property
    def label(self) -> str:
        """« Revenus, pauvreté et niveau de vie (Filosofi), Insee »: title and publisher."""
        return f"{self.title}, {self.publisher_short}" if self.publisher_short else self.title

    def release(self):
        """The connector's default release (the newest)."""
        return self.releases()[0]

    def releases(self) -> list:
        """The releases :func:`available` checks, preferred first (newest, then older mirrored ones)."""
        module = import_module(f"planeco_kernel.sources.{self.id}")
        if self.id == "filosofi":
            commune = sorted((v for v, lv in module.RELEASES if lv == "commune"), reverse=True)
            return [module.RELEASES[(v, "commune")] for v in commune]
        if callable(getattr(module, "releases", None)):
            return module.releases()
        return [getattr(module, self.release_attr)]


REQUIRED_FIELDS = ("kind", "title", "short", "publisher", "publisher_short", "licence", "homepage", "urls",
                   "vintages", "vintage_text", "geography", "levels", "coverage", "themes")


def _parse_registry(raw: dict) -> dict[str, SourceInfo]:
    """Typed, validated entries of the registry (``build_checks`` is not a source)."""
    from planeco_kernel.errors import SchemaError
    from planeco_kernel.levels import LEVELS

    out: dict[str, SourceInfo] = {}
    problems: list[str] = []
    for sid, e in raw.items():
        if sid == "build_checks":
            continue
        missing = [k for k in REQUIRED_FIELDS if e.get(k) in (None, "", [])]
        if missing:
            problems.append(f"{sid}: missing fields {missing}")
            continue
        bad = [lv for lv in e["levels"] if lv not in LEVELS]
        if bad:
            problems.append(f"{sid}: unknown levels {bad}")
        if e["kind"] not in ("bundle", "indicator"):
            problems.append(f"{sid}: kind {e['kind']!r} (expected bundle or indicator)")
        files = []
        for f in e.get("files") or []:
            key = f.get("path") or f.get("url")
            if not key or not re.fullmatch(r"[0-9a-f]{64}", str(f.get("sha256", ""))):
                problems.append(f"{sid}: file entry {f} needs a path (or url) and a sha256")
                continue
            files.append(FileIdentity(str(key), str(f["sha256"]), str(f.get("release", ""))))
        out[sid] = SourceInfo(
            sid, e["title"], e["publisher"], e["licence"], tuple(e["urls"]), tuple(str(v) for v in e["vintages"]),
            tuple(e["themes"]), short=e["short"], publisher_short=e["publisher_short"], homepage=e["homepage"],
            vintage_text=e["vintage_text"], geography=str(e["geography"]), levels=tuple(e["levels"]),
            coverage=e["coverage"], files=tuple(files), kind=e["kind"],
            partial_coverage=(" ".join(str(e["partial_coverage"]["where"]).split()),
                              " ".join(str(e["partial_coverage"]["elsewhere"]).split()))
            if e.get("partial_coverage") else None,
            how_to_get=" ".join(str(e.get("how_to_get") or "").split()),
        )
    if problems:
        raise SchemaError("sources/registry.yaml: " + "; ".join(problems))
    return out


def _registry_sources() -> dict[str, SourceInfo]:
    from planeco_kernel.sources import registry

    return _parse_registry(registry())


ALL: dict[str, SourceInfo] = _registry_sources()
"""Every source of the registry (bundle and indicator sources), by id."""

SOURCES: dict[str, SourceInfo] = {k: v for k, v in ALL.items() if v.kind == "indicator"}
"""The indicator sources (one connector module each), read by the indicator step of the build."""


def info(source_id: str) -> SourceInfo:
    """The registry entry of a source; raises a French :class:`KeyError` listing the known ones."""
    try:
        return ALL[source_id]
    except KeyError:
        raise KeyError(f"Source inconnue : {source_id!r}. Sources du registre : {', '.join(ALL)}.") from None


def declared_identity(key: str) -> tuple[str, FileIdentity] | None:
    """``(source_id, FileIdentity)`` declared for a mirror-relative path or URL, or ``None``."""
    for sid, s in ALL.items():
        for f in s.files:
            if f.key == key:
                return sid, f
    return None  # (the fetch layer uses planeco_kernel.sources.identity.declared_identity, same data)


def build_checks() -> dict[str, float]:
    """Declared tolerances of the headline counts between two builds (``build_checks``)."""
    from planeco_kernel.sources import registry

    return {k: float(v) for k, v in (registry().get("build_checks") or {}).items()}


def probe_url(url: str, *, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether ``url`` answers a ``HEAD`` request (nothing is downloaded); returns (ok, reason)."""
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "planeco (+https://github.com/planeco)"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return True, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        # 405: the server refuses HEAD but is there; other 4xx/5xx: the file is not.
        if exc.code == 405:
            return True, "HTTP 405 (HEAD refusé, serveur joignable)"
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        log.info("probe of %s failed: %r", url, exc)
        return False, f"injoignable ({_network_reason(exc)})"


def _network_reason(exc: BaseException) -> str:
    """A plain French reason for a network failure (shown to users; the raw error goes to the log)."""
    import socket

    cause = getattr(exc, "reason", exc)
    if isinstance(cause, socket.gaierror):
        return "pas d'accès à internet ou serveur inconnu"
    if isinstance(cause, (TimeoutError, socket.timeout)):
        return "délai de réponse dépassé"
    if isinstance(cause, ConnectionRefusedError):
        return "connexion refusée"
    return "erreur réseau"


def _in_cache(url: str) -> Path | None:
    from planeco_kernel.sources.fetch import Cache, _cache_name_for_url

    cache = Cache()
    path = cache.path_for("url", _cache_name_for_url(url))
    sidecar = path.with_name(path.name + ".sha256")
    return path if path.is_file() and sidecar.is_file() else None


def available(
    mirror: str | Path | None = None,
    *,
    network: bool = True,
    probe: Callable[[str], tuple[bool, str]] = probe_url,
) -> dict[str, dict[str, str]]:
    """Which sources can be read now, and from where, without downloading them.

    Checked in order: the offline mirror (``mirror`` or ``PLANECO_MIRROR``), the download cache
    (``PLANECO_CACHE``; the presence of a complete entry, not its checksum), then the network
    (a ``HEAD`` request, skipped when ``network`` is false or ``PLANECO_OFFLINE`` is set).

    Returns
    -------
    dict
        ``{source_id: {"status": "mirror"|"cache"|"network"|"unavailable", "reason": <French text>,
        "location": <path or URL>}}``.
    """
    root = config.mirror_dir(mirror)
    offline = config.offline()

    def local(rel) -> dict[str, str] | None:
        if root is not None and rel.mirror_path and (root / rel.mirror_path).is_file():
            return {"status": "mirror", "reason": f"fichier présent dans le miroir ({rel.mirror_path})",
                    "location": str(root / rel.mirror_path)}
        hit = None if rel.extra.get("mirror_only") else _in_cache(rel.url)
        if hit is not None:
            return {"status": "cache", "reason": "fichier déjà téléchargé (cache)", "location": str(hit)}
        return None

    result: dict[str, dict[str, str]] = {}
    to_probe: dict[str, str] = {}
    for sid, info in SOURCES.items():
        newest = info.release()
        found = local(newest)
        if found is not None:
            result[sid] = found
        elif not (offline or not network or newest.extra.get("mirror_only")):
            to_probe[sid] = newest.url
    answers: dict[str, tuple[bool, str]] = {}
    if to_probe:
        with ThreadPoolExecutor(max_workers=min(8, len(to_probe))) as pool:
            answers = dict(zip(to_probe, pool.map(probe, to_probe.values())))
    for sid, info in SOURCES.items():
        if sid in result:
            continue
        newest = info.release()
        host = urllib.parse.urlparse(newest.url).netloc
        if sid in answers and answers[sid][0]:
            result[sid] = {"status": "network", "location": newest.url,
                           "reason": f"{host} répond ({answers[sid][1]}) ; téléchargement à la construction"}
            continue
        if sid in answers:
            why = f"{host} {answers[sid][1]}"
        elif offline:
            why = "mode hors ligne (PLANECO_OFFLINE)"
        else:
            why = "réseau non vérifié"
        older = next((f for rel in info.releases()[1:] if (f := local(rel)) is not None), None)
        if older is not None:
            vintage = next(rel.vintage for rel in info.releases()[1:] if local(rel) is not None)
            older["reason"] = (f"millésime {newest.vintage} indisponible ({why}) ; millésime ancien {vintage} "
                               f"utilisé : {older['reason']}")
            result[sid] = older
        else:
            result[sid] = {"status": "unavailable", "location": newest.url,
                           "reason": f"{why} ; fichier absent du miroir ({newest.mirror_path}) et du cache"}
    return {sid: result[sid] for sid in SOURCES}


def load(source_id: str, /, **kwargs):
    """Load one source's tidy frame by id: ``load("cerema_conso", mirror=...)``.

    Keyword arguments go to the connector's ``load`` (``ademe_dpe`` needs ``communes=[...]``;
    ``filosofi`` takes ``vintage`` and ``level``).

    Raises
    ------
    KeyError
        Unknown source id (the message lists the known ones).
    """
    if source_id not in SOURCES:
        raise KeyError(f"Source inconnue : {source_id!r}. Sources connues : {', '.join(SOURCES)}.")
    return import_module(f"planeco_kernel.sources.{source_id}").load(**kwargs)
