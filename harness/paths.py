"""Where the bundled workloads and configs live (source checkout or wheel), and how YAML is read."""

from __future__ import annotations

import errno
import hashlib
import marshal
import os
import re
import stat
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent

# Workload, table, column and query names: plain lower-case identifiers, which name folders,
# files and tables alike (harness.workloads and harness.datafiles check names with it).
NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def bundled(name: str) -> Path:
    """The bundled `workloads` or `configs` folder.

    A wheel carries them inside the package (`harness/_data/`); a source checkout or an editable
    install has them beside the package, at the top of the repository.
    """
    inside_wheel = _PACKAGE / "_data" / name
    if inside_wheel.is_dir():
        return inside_wheel
    return _PACKAGE.parent / name


def cache_dir() -> Path:
    """whbench's own cache folder (compiled templates, fetched objects): $XDG_CACHE_HOME/whbench,
    else ~/.cache/whbench. Nothing in it is needed: deleting it only makes the next run slower."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whbench"


def default_config_file() -> Path:
    return bundled("configs") / "default.yaml"


KIB, MIB = 1024, 1024 * 1024
TEXT_LIMIT = 8 * MIB  # a workload file, a query, a price catalog: far above any real one


def read_text(path: Path, what: str, error: type[Exception], limit: int = TEXT_LIMIT) -> str:
    """A text file the user gave (config, price catalog, workload, secret), or one line naming
    why it cannot be read: missing, a symlink loop, not a regular file, over `limit` bytes,
    unreadable, or not text.

    Only a regular file is read, and never more than `limit` bytes: a path to /dev/zero, a FIFO
    or a 50 GB log must be refused at once, not read until the machine runs out of memory.
    """
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise error(
                f"{what} {path} is a symlink to a missing file; give an existing file"
            ) from None
        raise error(f"{what} {path} not found; give an existing file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        if getattr(exc, "errno", None) == errno.ELOOP:
            raise error(
                f"{what} {path} is a symlink loop (or too many links); point it at a real file"
            ) from None
        raise error(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(
                f"{what} {path} is {file_kind(info.st_mode)}, not a regular file; give a file"
            )
        if info.st_size > limit:
            raise error(_too_large(what, path, limit))
        # One byte past the limit tells a file that grew (or a /proc file, whose size says 0).
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise error(_too_large(what, path, limit))
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not a text file (not UTF-8); give a text file") from None
    # As Path.read_text reads: universal newlines.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _too_large(what: str, path: Path, limit: int) -> str:
    return (
        f"{what} {path} is larger than {_size(limit)}, the most whbench reads; give the right file"
    )


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB else f"{limit // KIB} KiB"


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, in words ("a character device"), from its
    st_mode (lstat's, to name a symbolic link)."""
    kinds = (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


class YamlError(Exception):
    """Malformed YAML: what is wrong and, when the parser knows, where (1-based)."""

    def __init__(
        self, problem: str, line: int | None = None, column: int | None = None, hint: str = ""
    ):
        super().__init__(problem)
        self.problem, self.line, self.column = problem, line, column
        self.hint = hint  # what to do, when it is not "fix the syntax"

    @property
    def where(self) -> str:
        return f" line {self.line}, column {self.column}" if self.line else ""


# The rules a text is parsed by, beyond YAML's own: a change to them (another check, another
# limit) must change this number, so that no text accepted under the old rules is served from
# the cache without being checked under the new ones.
_RULES = 2
MAX_ALIASES = 100  # `*name` references in one text
MAX_ALIASED_VALUES = 100_000  # values the aliases of one text stand for, once expanded


def read_yaml(text: str) -> Any:
    """Parse YAML safely; raises YamlError with a position on bad input: malformed YAML, a key
    given twice in one mapping (at any level), or more aliases than MAX_ALIASES (or aliases
    that would expand to more than MAX_ALIASED_VALUES values: an alias bomb).

    What a text parses to is kept in the cache, keyed by the text's hash and the parser's
    rules, so a command that reads only files it read before (the config, the workloads) never
    imports PyYAML: that import alone is 7 ms of every command's start. A text is always parsed
    the same way, so an entry can never be stale. Values marshal cannot write (a YAML date)
    are parsed each time.
    """
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cached = cache_dir() / f"yaml-{_RULES}-{marshal.version}" / f"{digest}.marshal"
    try:
        return marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    data = _parse_yaml(text)
    try:
        encoded = marshal.dumps(data)
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed, so a reader never sees half an entry.
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(encoded)
        os.replace(partial, cached)
    except (OSError, ValueError):
        pass  # a read-only home or an unmarshallable value: parse it again next time
    return data


def _parse_yaml(text: str) -> Any:
    import yaml

    loader = _strict_loader()
    try:
        if "&" in text and "*" in text:  # without both, there can be no alias
            _count_aliases(text, loader)
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem = " ".join(problem.split())  # one line: libyaml's problems may span two
        if mark is None:
            raise YamlError(problem) from None
        raise YamlError(problem, mark.line + 1, mark.column + 1) from None


def _count_aliases(text: str, loader: type) -> None:
    """Refuse an alias bomb before anything is built: aliases are counted, and the values they
    stand for summed, from the parser's events (a few levels of `[*a, *a, *a]` stand for
    billions of values, which anything walking the result, as env resolution does, would
    expand). Only texts that could hold an alias get here."""
    import yaml

    expanded: dict[str, int] = {}  # anchor -> how many values its node holds, aliases expanded
    open_nodes: list[list[Any]] = []  # [anchor, values so far] of each unfinished collection
    aliases = aliased = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            size = expanded.get(event.anchor, 1)
            aliased += size
            if aliases > MAX_ALIASES or aliased > MAX_ALIASED_VALUES:
                mark = event.start_mark
                limit = (
                    f"more than {MAX_ALIASES} aliases"
                    if aliases > MAX_ALIASES
                    else f"aliases that expand to more than {MAX_ALIASED_VALUES:,} values"
                )
                raise YamlError(
                    f"{limit}, at *{event.anchor}",
                    mark.line + 1,
                    mark.column + 1,
                    "write the values out instead of aliasing them",
                )
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor:
                expanded[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append([event.anchor, 1])
            continue
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
            if anchor:
                expanded[anchor] = size
        else:
            continue
        if open_nodes:
            open_nodes[-1][1] += size


_LOADER: type | None = None


def _strict_loader() -> type:
    """libyaml's safe loader when PyYAML was built with it (several times faster than pure
    Python), refusing a key given twice in one mapping: YAML keeps the last silently, so a
    setting written twice, or a stray key a comma cut from a title, would pass unnoticed."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merge = "tag:yaml.org,2002:merge"

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                # Keys merged in with `<<:` may be overridden; keys written twice may not.
                first: dict[Any, Any] = {}
                for key_node, _ in node.value:
                    if key_node.tag == merge:
                        continue
                    key = self.construct_object(key_node, deep=deep)  # kept: built once
                    try:
                        earlier = first.setdefault(key, key_node)
                    except TypeError:
                        continue  # unhashable: the base class says so, with its position
                    if earlier is not key_node:
                        mark, was = key_node.start_mark, earlier.start_mark
                        raise YamlError(
                            f"duplicate key {_short(key)}, first given at line {was.line + 1}",
                            mark.line + 1,
                            mark.column + 1,
                            "give each key once",
                        )
            return super().construct_mapping(node, deep=deep)

    _LOADER = StrictLoader
    return StrictLoader


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- where a key is, and which keys a file may hold ---------------------------------------------
Keys = tuple[str | int, ...]  # where a value is: mapping keys and list indices from the top
NAMES, ANY = "names", "any"  # check_keys: a mapping of names to values given; anything


def dotted(keys: Keys) -> str:
    """keys as a path: engines.duckdb.threads, workload_dirs[0]; a key that is not plain text
    (a newline, a tab, 200 characters) is quoted, so that a message stays one short line."""
    path = ""
    for key in keys:
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            key = str(key)
            shown = key if key.isprintable() and 0 < len(key) <= 60 else _short(key)
            path += f".{shown}" if path else shown
    return path


def key_line(text: str, keys: Keys) -> int | None:
    """The line (1-based) of the deepest of `keys` (mapping keys and list indices from the top)
    found in a YAML text, or None. Only for an error: composing the text costs a parse, and the
    parse cache keeps no positions."""
    if not keys:
        return None
    import yaml

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(key)]
            if not found:
                break
            key_node, node = found[-1]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


COMMA_HINT = "an unquoted comma in a { } mapping starts a new key: quote the value"


def check_keys(
    data: Any, schema: Any, text: str, file: Path, error: type[Exception], path: tuple = ()
) -> None:
    """Refuse a key `schema` does not list, or a name given no value, with the file and line.
    The line is looked up only for an error (by composing the text), so a good file costs a
    walk over its keys."""
    if isinstance(schema, dict):
        if not isinstance(data, dict):
            if data is not None:
                _key_error(error, file, text, path, f"{dotted(path)} must be a mapping")
            return
        for key, value in data.items():
            if key in schema:
                check_keys(value, schema[key], text, file, error, (*path, key))
            elif "*" in schema:
                check_keys(value, schema["*"], text, file, error, (*path, key))
            else:
                import difflib

                known = [k for k in schema if k != "*"]
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else COMMA_HINT
                    if value is None
                    else f"known: {', '.join(known)}"
                )
                where = f" in {dotted(path)}" if path else ""
                _key_error(error, file, text, (*path, key), f"unknown key {key!r}{where}; {hint}")
    elif isinstance(schema, list) and isinstance(data, list):
        for number, item in enumerate(data):
            check_keys(item, schema[0], text, file, error, (*path, number))
    elif schema == NAMES and isinstance(data, dict):
        for key, value in data.items():
            if value is None:
                _key_error(
                    error,
                    file,
                    text,
                    (*path, key),
                    f"{dotted((*path, key))} has no value; give one ({COMMA_HINT})",
                )


def _key_error(error: type[Exception], file: Path, text: str, path: tuple, problem: str) -> None:
    line = key_line(text, path)
    raise error(f"{file}:{f' line {line}:' if line else ''} {problem}")
