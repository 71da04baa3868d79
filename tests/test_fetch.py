"""The fetch layer: checksummed cache, npm/PyPI handlers, offline and missing-tool messages.

The tarballs here are invented test data; ``npm`` is replaced by a small script on ``PATH``.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import socket
import stat
from pathlib import Path

import pytest

from planeco_kernel.errors import ChecksumError, SourceUnavailableError
from planeco_kernel.sources import fetch

PKG, VERSION = "@test/invented", "1.0.0"


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture()
def tarball(tmp_path) -> Path:
    p = tmp_path / "src" / "test-invented-1.0.0.tgz"
    p.parent.mkdir()
    p.write_bytes(b"invented tarball bytes " * 100)
    return p


def _fake_npm(tmp_path: Path, tarball: Path) -> Path:
    """A fake ``npm`` that 'packs' by copying the invented tarball; counts its calls."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "npm"
    script.write_text(
        "#!/bin/sh\n"
        f"echo call >> {tmp_path / 'npm_calls'}\n"
        "while [ $# -gt 0 ]; do if [ \"$1\" = --pack-destination ]; then dest=$2; fi; shift; done\n"
        f"cp {tarball} \"$dest/\"\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bindir


def _calls(tmp_path: Path) -> int:
    f = tmp_path / "npm_calls"
    return len(f.read_text().splitlines()) if f.exists() else 0


def test_npm_fetch_then_cache_hit(tmp_path, tarball, isolated_cache, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_npm(tmp_path, tarball)) + os.pathsep + os.environ["PATH"])
    integrity = _sri(tarball.read_bytes())
    a = fetch.npm_pack(PKG, VERSION, integrity=integrity)
    assert not a.from_cache and a.path.read_bytes() == tarball.read_bytes()
    b = fetch.npm_pack(PKG, VERSION, integrity=integrity)
    assert b.from_cache and _calls(tmp_path) == 1


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_damaged_cache_entry_is_detected_and_fetched_again(tmp_path, tarball, isolated_cache, monkeypatch, damage):
    monkeypatch.setenv("PATH", str(_fake_npm(tmp_path, tarball)) + os.pathsep + os.environ["PATH"])
    integrity = _sri(tarball.read_bytes())
    a = fetch.npm_pack(PKG, VERSION, integrity=integrity)
    data = a.path.read_bytes()
    a.path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"X" + data[1:])
    b = fetch.npm_pack(PKG, VERSION, integrity=integrity)
    assert not b.from_cache and _calls(tmp_path) == 2
    assert b.path.read_bytes() == tarball.read_bytes()


def test_cache_get_drops_entry_without_sidecar_or_with_wrong_bytes(tmp_path):
    cache = fetch.Cache(tmp_path / "c")
    src = tmp_path / "f.bin"
    src.write_bytes(b"invented")
    path, _ = cache.put("ns", "f.bin", src)
    path.write_bytes(b"inventeX")
    assert cache.get("ns", "f.bin") is None and not path.exists()
    path, _ = cache.put("ns", "f.bin", src)
    path.with_name("f.bin.sha256").unlink()
    assert cache.get("ns", "f.bin") is None


def test_wrong_integrity_from_registry_is_refused(tmp_path, tarball, isolated_cache, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_npm(tmp_path, tarball)) + os.pathsep + os.environ["PATH"])
    with pytest.raises(ChecksumError, match="ne correspond pas à l'empreinte du registre"):
        fetch.npm_pack(PKG, VERSION, integrity=_sri(b"something else"))


def test_missing_npm_gives_a_french_message(tmp_path, isolated_cache, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SourceUnavailableError, match=r"npm est introuvable.*Installez Node.js et npm"):
        fetch.npm_pack(PKG, VERSION, integrity=_sri(b"x"))


@pytest.mark.parametrize("call, match", [
    (lambda: fetch.fetch_url("https://example.invalid/file.csv"), "Mode hors ligne.*n'est pas dans le cache"),
    (lambda: fetch.pypi_download("invented-package", "1.0"), "Mode hors ligne.*invented-package==1.0"),
])
def test_offline_without_cache(isolated_cache, monkeypatch, call, match):
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    with pytest.raises(SourceUnavailableError, match=match):
        call()


def test_offline_npm_without_cache(tmp_path, tarball, isolated_cache, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_npm(tmp_path, tarball)) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    with pytest.raises(SourceUnavailableError, match="Mode hors ligne"):
        fetch.npm_pack(PKG, VERSION, integrity=_sri(tarball.read_bytes()))
    assert _calls(tmp_path) == 0


def test_mirror_file_missing_and_unset(tmp_path):
    with pytest.raises(SourceUnavailableError, match="Aucun miroir configuré"):
        fetch.mirror_file("banatic/groupements.csv", None)
    with pytest.raises(SourceUnavailableError, match="Fichier introuvable"):
        fetch.mirror_file("banatic/groupements.csv", tmp_path)


@pytest.mark.parametrize("error, attempts", [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), 1),  # no internet / no such host
    (OSError(errno.ENETUNREACH, "Network is unreachable"), 1),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), 3),  # transient: retried
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), 3),
    (TimeoutError("timed out"), 3),
])
def test_only_transient_network_errors_are_retried(isolated_cache, monkeypatch, error, attempts):
    """An offline machine's resolver answers « unknown host » at once: no 1 + 2 s of back-off per
    official file of the build. Errors that can pass are retried as before."""
    import urllib.error
    import urllib.request

    calls, sleeps = [], []
    monkeypatch.delenv("PLANECO_OFFLINE", raising=False)

    def refuse(req, timeout=None):
        calls.append(req.full_url)
        raise error if isinstance(error, TimeoutError) else urllib.error.URLError(error)

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(fetch.time, "sleep", sleeps.append)
    with pytest.raises(SourceUnavailableError, match="Source injoignable"):
        fetch.fetch_url("https://publisher.example/file.csv", retries=3)
    assert len(calls) == attempts
    assert sleeps == [1.0, 2.0][: attempts - 1]
