"""YAML in and out, keeping the line of every key and list item.

PyYAML's plain ``safe_load`` forgets where things came from, so a validator built on it can only
say "something in questions.yaml is wrong". Here the file is *composed* with ``SafeLoader`` (which
keeps a mark on every node) and turned into :class:`YMap` / :class:`YList`, ordinary ``dict`` and
``list`` subclasses that remember lines. Scalars are built by PyYAML's own safe constructor, so
``yes``, ``1.5`` and ``null`` mean what they mean everywhere else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import ERROR, N_, Problem


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that knows its own line and the line of each key."""

    line: int
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):  # type: ignore[type-arg]
    """A list that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_of(container: Any, key: Any = None) -> int | None:
    """Line of ``key`` in ``container`` (or of the container itself), when known."""
    if isinstance(container, (YMap, YList)):
        if key is None:
            return container.line
        return container.line_of(key)
    return None


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    problems: list[Problem]


class _Builder:
    """Turns a composed node tree into YMap/YList/scalars, noting duplicate keys."""

    def __init__(self, loader: yaml.SafeLoader, path: str, line_offset: int) -> None:
        self.loader = loader
        self.path = path
        self.offset = line_offset
        self.problems: list[Problem] = []
        # Aliases point at the same node; build it once (this also defuses "billion laughs").
        self.memo: dict[int, Any] = {}

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def build(self, node: yaml.Node) -> Any:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if isinstance(node, yaml.MappingNode):
            result = YMap()
            result.line = self.line(node)
            result.key_lines = {}
            self.memo[key] = result
            self.loader.flatten_mapping(node)
            for key_node, value_node in node.value:
                k = self.build(key_node)
                if isinstance(k, (YMap, YList)):
                    k = str(k)
                if k in result:
                    self.problems.append(
                        Problem(
                            ERROR,
                            self.path,
                            self.line(key_node),
                            str(k),
                            N_("duplicate key %(key)s"),
                            {"key": str(k)},
                        )
                    )
                result[k] = self.build(value_node)
                result.key_lines[k] = self.line(key_node)
            return result
        if isinstance(node, yaml.SequenceNode):
            seq = YList()
            seq.line = self.line(node)
            seq.item_lines = []
            self.memo[key] = seq
            for item in node.value:
                seq.append(self.build(item))
                seq.item_lines.append(self.line(item))
            return seq
        value = self.loader.construct_object(node, deep=True)
        self.memo[key] = value
        return value


def load_yaml(text: str, path: str, line_offset: int = 0) -> LoadedYaml:
    """Parse one YAML document from ``text``.

    ``path`` names the file in problems; ``line_offset`` shifts lines when the YAML is a
    front-matter block further down a file. On malformed YAML ``data`` is ``None`` and the
    problem carries the line PyYAML stopped at.
    """
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            return LoadedYaml(None, [])
        builder = _Builder(loader, path, line_offset)
        data = builder.build(node)
        return LoadedYaml(data, builder.problems)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if mark is not None:
            line: int | None = mark.line + 1 + line_offset
        elif isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1 + line_offset
        else:
            line = None
        reason = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        if context:
            reason = f"{reason} ({context})"
        return LoadedYaml(
            None,
            [Problem(ERROR, path, line, None, N_("malformed YAML: %(error)s"), {"error": reason})],
        )
    finally:
        if loader is not None:
            loader.dispose()


@dataclass(frozen=True)
class FrontMatter:
    """A lesson file split into its front matter and its body."""

    yaml_text: str
    #: 1-based file line of the first front-matter line (the one after ``---``).
    yaml_first_line: int
    body: str
    #: 1-based file line where the body starts.
    body_first_line: int


_FENCE = re.compile(r"^---[ \t]*$")


def split_front_matter(text: str) -> FrontMatter | None:
    """Split ``---`` front matter from the Markdown body, or ``None`` if there is none.

    The body is everything after the closing ``---`` line, byte for byte, so a round trip through
    the writer keeps it unchanged.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
        return None
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index].rstrip("\r\n")):
            return FrontMatter(
                yaml_text="".join(lines[1:index]),
                yaml_first_line=2,
                body="".join(lines[index + 1 :]),
                body_first_line=index + 2,
            )
    return None


class _Dumper(yaml.SafeDumper):
    """Block style, Unicode as is, multi-line strings as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write them by hand.
        super().increase_indent(flow, False)


#: Line breaks other than ``\n`` that YAML folds in plain, single-quoted and block scalars.
_UNUSUAL_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if any(brk in data for brk in _UNUSUAL_BREAKS):
        # Only double quotes escape these (\r, \N, \L, \P); any other style would change them.
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    if "\n" in data and not any(line != line.rstrip() for line in data.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


def _represent_float(dumper: yaml.SafeDumper, data: float) -> yaml.ScalarNode:
    if math.isfinite(data) and data == int(data) and abs(data) < 2**53:
        return dumper.represent_int(int(data))
    return dumper.represent_float(data)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(YMap, _Dumper.represent_dict)
_Dumper.add_representer(YList, _Dumper.represent_list)


def dump_yaml(data: Any) -> str:
    """Serialize plain data the way the README's examples look."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
