"""The data.gouv.fr API (v1) as the connectors of the official files use it: a dataset's JSON and
the URL of one of its resources.

``https://www.data.gouv.fr/api/1/datasets/<id or slug>/`` returns the dataset with its
``resources`` (``title``, ``format``, ``url``, ``id`` …); a publisher's republication changes a
resource's dated ``url``, not the dataset, so the connectors resolve the file through it at
build time instead of storing a dated path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planeco_kernel.errors import SchemaError, SourceUnavailableError

API = "https://www.data.gouv.fr/api/1/datasets/"


def dataset_api(dataset: str) -> str:
    """The API URL of a dataset given by its id or slug."""
    return f"{API}{dataset}/"


def fetch_dataset(api_url: str, *, cache=None) -> dict[str, Any]:
    """The dataset's JSON (fetched, or from the download cache).

    Raises
    ------
    SourceUnavailableError
        data.gouv.fr cannot be reached.
    SchemaError
        The answer is not the JSON object of a dataset.
    """
    from planeco_kernel.sources.fetch import fetch_url

    meta = fetch_url(api_url, cache=cache)
    try:
        doc = json.loads(Path(meta.path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SchemaError(f"{api_url}: not the JSON of a data.gouv.fr dataset ({exc}).") from None
    if not isinstance(doc, dict):
        raise SchemaError(f"{api_url}: not the JSON of a data.gouv.fr dataset (found {type(doc).__name__}).")
    return doc


def pick_resource(dataset: dict[str, Any], match: Callable[[dict[str, Any]], bool], *, missing: str) -> str:
    """The ``url`` of the first resource of ``dataset`` for which ``match(resource)`` is true.

    ``missing`` is the French message raised when none matches (say what to download by hand and
    where to put it in the mirror).

    Raises
    ------
    SourceUnavailableError
        No resource matches.
    """
    for res in dataset.get("resources") or []:
        if isinstance(res, dict) and res.get("url") and match(res):
            return str(res["url"])
    raise SourceUnavailableError(missing)


def label(resource: dict[str, Any]) -> str:
    """Title and URL of a resource, lower-cased (what the matchers look into)."""
    return f"{resource.get('title', '')} {resource.get('url', '')}".lower()


def fmt(resource: dict[str, Any]) -> str:
    """The resource's declared format, lower-cased (``csv``, ``zip`` …)."""
    return str(resource.get("format") or "").lower()
