"""Where the knowledge base is, and who is posting.

``PLANECO_KB``
    The knowledge base directory (a git working tree). Default: ``<user data dir>/planeco/kb``.
    Any folder inside a knowledge base also works (the root holds ``planeco-kb.yaml``).
Who is posting is decided by :mod:`planeco_kernel.knowledge.identity` (the JupyterHub user, else
the git/OS identity of the install matched to the member registry).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

MARKER = "planeco-kb.yaml"


def default_kb_dir() -> Path:
    """``PLANECO_KB`` or the per-user default location."""
    env = os.environ.get("PLANECO_KB")
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir("planeco")) / "kb"


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The knowledge-base root containing ``start`` (walking up), or None."""
    p = Path(start).expanduser().resolve() if start is not None else default_kb_dir()
    for d in [p, *p.parents]:
        if (d / MARKER).is_file() and (d / ".git").is_dir():
            return d
    return None
