"""Data sources: one module per official source (fetch + parse + validate), and the fetch layer.

``fetch``      checksummed cache and origin handlers (https, file, npm, pypi).
``registry``   pinned upstream versions and checksums (``registry.yaml``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def registry() -> dict[str, Any]:
    """The pinned upstream artefacts (``registry.yaml``), parsed once."""
    text = resources.files(__package__).joinpath("registry.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
