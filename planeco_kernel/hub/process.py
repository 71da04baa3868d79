"""Start and stop servers in child processes: a real JupyterHub with planeco's configuration,
``planeco serve``, JupyterLab (tests and benchmarks).

:class:`HubProcess` runs ``python -m jupyterhub -f jupyterhub_config.py`` on 127.0.0.1 with
free ports, waits (bounded) until the hub answers, and on exit stops it together with every
process it spawned (proxy, culler, users' servers and their kernels). :func:`spawned` does the
same for one server process; :func:`wait_until_answers` is their bounded wait.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planeco_kernel import config as planeco_config
from planeco_kernel.errors import ConfigError


def stop_process(proc: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """Stop a child process: SIGTERM, wait up to ``timeout_s``, then SIGKILL; reaped either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: Path, n: int = 4000) -> str:
    return log.read_text(errors="replace")[-n:] if log.exists() else ""


def wait_until_answers(url: str, proc: subprocess.Popen, log: Path, timeout_s: float, name: str) -> None:
    """Poll ``url`` until it answers 200; :class:`ConfigError` (with the tail of ``log``) if
    ``proc`` exits first or nothing answers within ``timeout_s``. ``name`` names the server in the message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigError(f"{name} s'est arrêté (code {proc.returncode}) :\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise ConfigError(f"{name} ne répond pas sur {url} après {timeout_s:.0f} s :\n{_tail(log)}")


@contextmanager
def spawned(argv: list[str], ready_url: str, log: Path, env: dict[str, str], cwd: Path,
            timeout_s: float = 90.0, name: str = "planeco serve") -> Iterator[subprocess.Popen]:
    """Run ``argv`` (output to ``log``), wait until ``ready_url`` answers (:func:`wait_until_answers`),
    stop it on exit (:func:`stop_process`)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_answers(ready_url, proc, log, timeout_s, name)
        yield proc
    finally:
        stop_process(proc)


class HubProcess:
    """A JupyterHub on 127.0.0.1 in its own process group (context manager).

    Parameters
    ----------
    state_dir
        Hub state (database, cookie secret, users' folders); a fresh folder for a fresh hub.
    env
        Extra environment (``PLANECO_KB``, ``PLANECO_HUB_AUTHENTICATOR``, ``PLANECO_DATA_DIR``…).
    start_timeout_s
        How long to wait for the hub to answer.
    """

    def __init__(self, state_dir: Path, env: dict[str, str], start_timeout_s: float = 60.0):
        self.state_dir = Path(state_dir)
        self.port = free_port()
        self.env = {**os.environ, **env,
                    "PLANECO_HUB_DIR": str(self.state_dir), "PLANECO_HUB_IP": "127.0.0.1",
                    "PLANECO_HUB_PORT": str(self.port), "PLANECO_HUB_API_PORT": str(free_port()),
                    "PLANECO_HUB_PROXY_API_PORT": str(free_port()),
                    "PLANECO_HUB_KB_SERVICE_PORT": str(free_port())}
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(planeco_config.PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = self.state_dir / "hub.log"
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> HubProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(planeco_config.PROJECT_ROOT / "jupyterhub_config.py")],
                cwd=self.state_dir, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, n: int = 4000) -> str:
        return _tail(self.log, n)

    def _wait_up(self) -> None:
        wait_until_answers(self.url + "hub/api/", self.proc, self.log, self.start_timeout_s, "JupyterHub")

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the hub (SIGTERM: it stops the servers it spawned), then kill whatever it left behind.

        Users' servers run in sessions of their own (JupyterHub does not forward signals), so they
        are found as descendants of the hub before it stops, not by process group.
        """
        import psutil

        if self.proc is None:
            return
        try:
            left = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            left = []
        stop_process(self.proc, timeout_s)
        for p in left:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(left, timeout=5)
        self.proc = None
