"""A pool of fresh, pre-warmed Jupyter kernels, each used for exactly one report.

Starting a kernel and importing pandas, matplotlib and planeco in it costs more than most
reports themselves. Reusing one kernel for several reports would leak state between them
(variables, caches, matplotlib settings), so the pool never does that: it keeps ``size``
*new* kernels starting in the background while the current report runs, hands each out once,
and kills it after use (off the critical path).

Two ways to make a fresh kernel (``mode``):

``fork`` (default on POSIX)
    A kernel factory (:mod:`planeco_kernel.reports.zygote`) imports everything and loads the
    territory model once, then forks one new kernel per report: ~0.2 s instead of ~2 s, and
    every kernel starts from the same never-used state.
``spawn``
    An ordinary kernel process, then :data:`WARMUP_CODE` run silently in it
    (``store_history=False``: no ``In``/``Out`` entries, execution count unchanged).
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from planeco_kernel.errors import KernelStartError

WARMUP_CODE = "import planeco_kernel.reports.prewarm as _planeco_prewarm; _planeco_prewarm.run(); del _planeco_prewarm"
"""Run silently in each kernel before use: imports and the read-only territory model."""

START_TIMEOUT = 60.0


class _ForkedProcess:
    """The subset of ``subprocess.Popen`` that jupyter_client's provisioner uses, for a forked kernel."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                import subprocess

                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        import signal

        self.send_signal(signal.SIGTERM)


class _Zygote:
    """The kernel factory process (see :mod:`planeco_kernel.reports.zygote`)."""

    def __init__(self) -> None:
        import subprocess
        import sys

        self._lock = threading.Lock()
        self.env = dict(os.environ)
        self.proc = subprocess.Popen([sys.executable, "-m", "planeco_kernel.reports.zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        if line != "READY":
            self.proc.kill()
            raise KernelStartError("La fabrique de noyaux n'a pas démarré (python -m planeco_kernel.reports.zygote).")

    def fork(self, connection_file: str, cwd: str, env: dict[str, str]) -> int:
        import json

        with self._lock:
            if self.proc.poll() is not None:
                raise KernelStartError("La fabrique de noyaux s'est arrêtée.")
            self.proc.stdin.write(json.dumps({"connection_file": connection_file, "cwd": cwd, "env": env}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            raise KernelStartError(f"La fabrique de noyaux a répondu « {line} » au lieu d'un pid.")
        return int(line)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def _fork_provisioner(km, zygote: _Zygote):
    """A jupyter_client provisioner that asks the factory for a forked kernel instead of spawning one."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            # What differs from the factory's start-up environment, plus planeco's settings (the worker's, at the
            # kernel's start; a task's own bundle is then set in its kernel by the executor).
            env = {k: v for k, v in (kwargs.get("env") or {}).items()
                   if k.startswith("PLANECO_") or zygote.env.get(k) != v}
            pid = zygote.fork(self.parent.connection_file, str(kwargs.get("cwd") or os.getcwd()), env)
            self.process = _ForkedProcess(pid)
            self.pid = pid
            self.pgid = pid
            self.cwd = kwargs.get("cwd")
            return self.connection_info

    return ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)


class KernelPool:
    """Fresh kernels started ahead of use.

    Parameters
    ----------
    size
        How many kernels to keep starting ahead (1 is enough for one report at a time).
    kernel_name
        Kernel spec (default ``python3``: the Python that runs planeco).
    warmup
        Code run silently in each spawned kernel before it is handed out (``""``: none).
    mode
        ``fork`` (factory, POSIX), ``spawn`` (ordinary kernels) or ``auto`` (fork where possible).
    """

    def __init__(self, size: int = 1, kernel_name: str = "python3", warmup: str = WARMUP_CODE, mode: str = "auto"):
        if mode == "auto":  # fork is safe on Linux; macOS system frameworks are not fork-safe
            import sys

            mode = "fork" if sys.platform.startswith("linux") and kernel_name == "python3" else "spawn"
        if mode not in ("fork", "spawn"):
            raise ValueError(f"Mode de démarrage des noyaux inconnu : « {mode} » (fork, spawn ou auto).")
        self.mode = mode
        self._zygote = _Zygote() if mode == "fork" else None
        self.size = max(1, int(size))
        self.kernel_name = kernel_name
        self.warmup = warmup
        self._lock = threading.Lock()
        self._starter = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="planeco-kernel-start")
        self._reaper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planeco-kernel-stop")
        self._ahead: deque[Future] = deque()
        self._runtime = tempfile.mkdtemp(prefix="planeco-kernels-")
        self._closed = False
        self._fill()

    # -- life cycle -------------------------------------------------------------------------------
    def _start_one(self):
        from jupyter_client import KernelManager

        km = KernelManager(kernel_name=self.kernel_name, transport="ipc",
                           ip=os.path.join(self._runtime, f"k{uuid.uuid4().hex[:10]}"))
        km.kernel_id = str(uuid.uuid4())
        if self._zygote is not None:
            with self._lock:
                if self._zygote.proc.poll() is not None:  # the factory died (memory, signal): start another
                    self._zygote = _Zygote()
                zygote = self._zygote
            km.connection_file = os.path.join(self._runtime, f"kernel-{km.kernel_id}.json")
            km.provisioner = _fork_provisioner(km, zygote)
        try:
            km.start_kernel(cwd=self._runtime)
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=START_TIMEOUT)  # includes jupyter_client's 0.2 s IOPub flush
                if self.warmup and self._zygote is None:
                    msg_id = kc.execute(self.warmup, silent=True, store_history=False)
                    while True:
                        reply = kc.get_shell_msg(timeout=START_TIMEOUT)
                        if reply["parent_header"].get("msg_id") == msg_id:
                            break
                    if reply["content"].get("status") != "ok":
                        c = reply["content"]
                        raise KernelStartError(f"Préchauffage du noyau en échec : {c.get('ename')}: {c.get('evalue')}")
            except BaseException:
                kc.stop_channels()
                raise
        except BaseException:
            self._kill(km)
            raise
        return km, kc

    def _fill(self) -> None:
        with self._lock:
            while not self._closed and len(self._ahead) < self.size:
                self._ahead.append(self._starter.submit(self._start_one))

    def acquire(self, timeout: float = 2 * START_TIMEOUT):
        """A started, warmed kernel ``(manager, connected client)``, used once; start its replacement at once.

        The client is already connected and ready (``wait_for_ready`` done ahead, off the
        critical path); pass both to papermill (``km=``, ``kc=``).

        Raises
        ------
        KernelStartError
            The kernel could not be started (transient; try again).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("KernelPool fermé.")
            fut = self._ahead.popleft() if self._ahead else self._starter.submit(self._start_one)
        self._fill()
        try:
            return fut.result(timeout=timeout)
        except KernelStartError:
            raise
        except Exception as exc:
            raise KernelStartError(f"Démarrage du noyau en échec : {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _kill(km, kc=None) -> None:
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:
                pass
        try:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        except Exception:
            pass
        try:
            km.cleanup_resources()
        except Exception:
            pass

    def release(self, kernel) -> None:
        """Dispose of a used kernel ``(manager, client)`` in the background (never reused)."""
        self._reaper.submit(self._kill, *kernel)

    def close(self) -> None:
        """Kill the kernels started ahead and wait for pending disposals."""
        with self._lock:
            self._closed = True
            ahead, self._ahead = list(self._ahead), deque()
        for fut in ahead:
            try:
                self._kill(*fut.result(timeout=START_TIMEOUT))
            except Exception:
                pass
        self._starter.shutdown(wait=True)
        self._reaper.shutdown(wait=True)
        if self._zygote is not None:
            self._zygote.close()
        import shutil

        shutil.rmtree(self._runtime, ignore_errors=True)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
