"""A papermill engine that runs a notebook on a kernel *and client* prepared ahead by the pool.

papermill's default engine (``nbclient``) accepts a started kernel manager (``km=``) but
always connects a new client and waits for it to be ready (kernel-info round trip plus a
0.2 s IOPub flush in jupyter_client). The pool already did that in the background, so this
engine hands the ready client to nbclient. Registered in papermill as ``planeco-pooled``.
"""

from __future__ import annotations

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

ENGINE_NAME = "planeco-pooled"


class PooledKernelEngine(NBClientEngine):
    """Like papermill's ``nbclient`` engine, with ``km=`` and ``kc=`` both supplied by the caller."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        kc = kwargs.pop("kc")
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(safe_kwargs, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                                    startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                                    log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
        client = PapermillNotebookClient(nb_man, **final_kwargs)
        client.kc = kc
        return client.execute()


def register() -> str:
    """Register the engine with papermill (idempotent); return its name."""
    papermill_engines.register(ENGINE_NAME, PooledKernelEngine)  # a dict assignment: idempotent
    return ENGINE_NAME
