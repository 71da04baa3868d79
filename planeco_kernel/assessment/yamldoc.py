"""YAML reading that remembers line numbers, so that validation errors can point at the line.

:func:`load` returns plain ``dict``/``list`` subclasses (:class:`LDict`, :class:`LList`) that
carry the 1-based line of the node (``.line``) and, for mappings, the line of each key
(``.key_line(key)``). Only safe YAML is accepted (no Python tags).
"""

from __future__ import annotations

from typing import Any

from planeco_kernel.errors import PlanecoError


class DocumentError(PlanecoError, ValueError):
    """A data file (référentiel, toolbox, answers, action sheet) is invalid.

    ``problems`` lists every problem found, each already prefixed with ``file, ligne N``.
    """

    def __init__(self, problems: list[str], where: str = ""):
        self.problems = list(problems)
        head = f"{where} : {len(problems)} problème(s)" if where else f"{len(problems)} problème(s)"
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in self.problems))


class LDict(dict):
    """A mapping read from YAML, with line numbers (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def key_line(self, key: Any) -> int:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LList(list):
    """A sequence read from YAML, with its line (1-based) and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def item_line(self, i: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[i] if i < len(lines) else self.line


def _loader():
    import yaml

    class LineLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        out = LDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "clé non valide (une liste ou un dictionnaire ne peut pas servir de clé)", key_node.start_mark
                ) from None
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"clé « {key} » répétée", key_node.start_mark
                )
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out

    def construct_sequence(loader, node, deep=False):
        out = LList(loader.construct_object(child, deep=True) for child in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [child.start_mark.line + 1 for child in node.value]
        return out

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return LineLoader


def load(text: str | bytes, where: str) -> Any:
    """Parse YAML ``text`` (named ``where`` in errors) keeping line numbers.

    Raises
    ------
    DocumentError
        On a syntax error (with the line), a repeated key or an unsafe tag.
    """
    import yaml

    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError([f"{where} : le fichier n'est pas encodé en UTF-8 ; enregistrez-le en UTF-8."]) from None
    try:
        return yaml.load(text, Loader=_loader())  # a SafeLoader subclass: no Python tags
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", ligne {mark.line + 1}" if mark is not None else ""
        raise DocumentError([f"{where}{line} : YAML invalide ({exc.problem or exc.context})."]) from None
    except yaml.YAMLError as exc:
        raise DocumentError([f"{where} : YAML invalide ({exc})."]) from None


def line_of(node: Any, key: Any = None) -> int:
    """The line of ``node`` (or of ``key`` inside it), 0 when unknown."""
    if isinstance(node, LDict):
        return node.key_line(key) if key is not None else node.line
    if isinstance(node, LList):
        return node.item_line(key) if isinstance(key, int) else node.line
    return 0


def at(where: str, line: int) -> str:
    """``"fichier, ligne N"`` (or just the file when the line is unknown)."""
    return f"{where}, ligne {line}" if line else where
