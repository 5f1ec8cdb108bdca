"""Markdown files with YAML front matter: the files export writes and import reads.

An exported file is `---`, the front matter, `---`, then the body exactly as stored. Import reads those
and what other tools write (Obsidian vaults, Joplin's "Markdown + Front Matter", plain Markdown).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any

import yaml

from notes_app.text import WHITE_SPACE_CLASS, trim

# libyaml's emitter and parser, several times faster than PyYAML's pure-Python ones (an export writes
# one front matter per note); the pure-Python classes behave the same where libyaml is missing.
try:
    from yaml import CSafeDumper as _SafeDumper
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML's wheels ship libyaml
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


# The front matter is handed to PyYAML as its node tree, not as a dict: the representer and resolver
# that turn Python values into nodes cost about half of an export's CPU, for a shape that never changes.
_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"


def _quoted(value: str) -> yaml.ScalarNode:
    # Double quotes make every string a string for every reader: plain `true`, `123`, `null`, `yes`,
    # `0o14` or a date would be read as other types, and YAML 1.1 and 1.2 disagree on some of them.
    # Control characters, line breaks and characters outside the BMP are written as escapes, which
    # both versions read back as the same characters.
    return yaml.ScalarNode(_STR, value, style='"')


def _key(name: str) -> yaml.ScalarNode:
    return yaml.ScalarNode(_STR, name)


def _flag(value: bool) -> yaml.ScalarNode:
    return yaml.ScalarNode(_BOOL, "true" if value else "false")


# Never fold a long title over several lines: a title is one line of front matter.
_NO_FOLDING = 2**30


def _timestamp(value: datetime) -> str:
    # The API's form: UTC, six fractional digits, `Z`.
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def render_note(
    *,
    title: str,
    body: str,
    tags: list[str],
    pinned: bool,
    archived: bool,
    created_at: datetime,
    updated_at: datetime,
) -> bytes:
    """One note as an exported Markdown file: front matter written by PyYAML, then the body as stored."""
    front_matter = yaml.MappingNode(
        "tag:yaml.org,2002:map",
        [
            (_key("title"), _quoted(title)),
            (_key("tags"), yaml.SequenceNode("tag:yaml.org,2002:seq", [_quoted(tag) for tag in tags])),
            (_key("pinned"), _flag(pinned)),
            (_key("archived"), _flag(archived)),
            (_key("created"), _quoted(_timestamp(created_at))),
            (_key("updated"), _quoted(_timestamp(updated_at))),
        ],
    )
    text = yaml.serialize(front_matter, Dumper=_SafeDumper, allow_unicode=True, width=_NO_FOLDING)
    return b"---\n" + text.encode() + b"---\n" + body.encode()


# The opening `---` must be the file's first line; the block ends at the next `---` (or YAML's `...`)
# line. A file without both is all body.
_OPENING = re.compile(r"---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
# The first level-one ATX heading, without an optional closing run of `#`.
_HEADING = re.compile(r"^#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\r?$", re.MULTILINE)
_NOTE_SUFFIXES = (".md", ".markdown", ".txt")
# White space inside a tag, with any `-` around it: `work project` and `work - project` become `work-project`.
_INNER_WHITE_SPACE = re.compile(rf"[{WHITE_SPACE_CLASS}-]*[{WHITE_SPACE_CLASS}][{WHITE_SPACE_CLASS}-]*")


class InvalidNoteFile(Exception):
    """A file that cannot become a note: `errors` are pydantic-style (loc below the file, msg, type)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["msg"])
        self.errors = errors


def _invalid(field: str, msg: str, kind: str) -> InvalidNoteFile:
    return InvalidNoteFile([{"loc": [field], "msg": msg, "type": kind}])


@dataclass(frozen=True)
class NoteFile:
    """What one file says about its note, before the note's own rules are applied."""

    fields: dict[str, Any]  # title, body, tags, and pinned/archived when given: NoteCreate's input
    created: datetime | None
    updated: datetime | None
    renamed_tags: list[tuple[str, str]]  # (as written, trimmed; without `#`, with `-` for its white space)


def _split(text: str) -> tuple[str | None, str]:
    opening = _OPENING.match(text)
    if opening is None:
        return None, text
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        return None, text
    return text[opening.end() : closing.start()], text[closing.end() :]


def _load_mapping(block: str) -> Mapping[Any, Any] | None:
    """The front matter's mapping; None when the block is YAML but not a mapping (then the `---` lines
    were the body's own, e.g. horizontal rules)."""
    try:
        # safe loading only: plain strings, numbers, booleans, dates, lists and mappings, never objects.
        loaded = yaml.load(block, Loader=_SafeLoader)
    except (yaml.YAMLError, RecursionError):
        # RecursionError: thousands of nested brackets exhaust the composer's stack.
        raise _invalid("front matter", "the front matter is not valid YAML", "front_matter_invalid") from None
    if loaded is None:
        return {}
    return loaded if isinstance(loaded, Mapping) else None


def _title_from(file: str, front_matter: Mapping[Any, Any], body: str) -> Any:
    title = front_matter.get("title")
    if isinstance(title, int | float) and not isinstance(title, bool):
        return str(title)  # `title: 2024` written by hand; our own export quotes it
    if isinstance(title, date) and not isinstance(title, datetime):
        return title.isoformat()  # a daily note's `title: 2024-01-31`
    if title is not None and not (isinstance(title, str) and not title.strip()):
        return title  # anything else that is not a string fails the note's own rules
    heading = _HEADING.search(body)
    if heading is not None and heading.group(1).strip():
        return heading.group(1)
    name = file.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in _NOTE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _tags_from(value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """The tags a file lists, and (as written, as renamed) for each tag whose white space became `-`:
    as written is the file's own text, `#` included, without the white space around it."""
    if value is None:
        return [], []
    if isinstance(value, str):  # "a, b, c"
        value = value.split(",")
    if not isinstance(value, list):
        return value, []  # refused by the note's rules: a list of tags
    tags: list[Any] = []
    renamed: list[tuple[str, str]] = []
    for tag in value:
        if isinstance(tag, str):
            # Surrounding white space is the list's (`a, b`), not the tag's.
            written = trim(tag)
            # Obsidian users write tags as in the body, `#project`; the `#` is not part of the name.
            tag = trim(written.removeprefix("#"))
            if tag == "":
                continue  # an empty entry (`a,,b`, `a, b,`, a lone `#`) names no tag
            # Joplin allows spaces in tags (`work project`), which a note's tag cannot hold.
            if (joined := _INNER_WHITE_SPACE.sub("-", tag)) != tag:
                renamed.append((written, joined))
                tag = joined
        tags.append(tag)
    return tags, renamed


_TIMESTAMP_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def _timestamp_from(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    moment: datetime | None = None
    if isinstance(value, datetime):  # YAML 1.1 reads `2021-05-01 16:40:00Z` as a timestamp itself
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        moment = _parse_timestamp_text(value.strip())
    if moment is None:
        raise _invalid(
            field,
            "not a timestamp: use RFC 3339 (2026-11-24T23:40:00Z) or another ISO 8601 form",
            "timestamp_invalid",
        )
    try:
        # Without a zone, UTC: the server has no local time of the writer's to assume.
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+01:00 is before the first UTC instant
        raise _invalid(field, "the timestamp is out of range", "timestamp_invalid") from None
    # asyncpg stores Python's first and last instants as PostgreSQL's -infinity and infinity, which read
    # back as no date at all (a note at -infinity made GET /notes fail): strictly between them only.
    if not _FIRST_INSTANT < moment < _LAST_INSTANT:
        raise _invalid(field, "the timestamp is out of range", "timestamp_invalid")
    return moment


def _parse_timestamp_text(text: str) -> datetime | None:
    # ISO 8601 and RFC 3339 in their common forms: `T` or space, with or without seconds, fractions and
    # zone (`Z` included), as Joplin (`2021-05-01 16:40Z`) and Obsidian (`2024-01-31T10:00`) write them.
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)  # RFC 2822, e.g. "Tue, 01 Dec 2026 22:00:00 +0000"
    except (TypeError, ValueError, IndexError):
        return None


def read_note_file(file: str, text: str) -> NoteFile:
    """The note a Markdown file describes. Raises InvalidNoteFile for front matter it cannot read;
    the note's own rules (lengths, tags) are applied by the caller."""
    text = text.removeprefix("\ufeff")  # a byte order mark, as Windows editors write it
    block, body = _split(text)
    front_matter = _load_mapping(block) if block is not None else {}
    if front_matter is None:
        front_matter, body = {}, text
    tags, renamed_tags = _tags_from(front_matter.get("tags"))
    fields: dict[str, Any] = {"title": _title_from(file, front_matter, body), "body": body, "tags": tags}
    for flag in ("pinned", "archived"):
        if front_matter.get(flag) is not None:
            fields[flag] = front_matter[flag]
    created = _timestamp_from("created", front_matter.get("created"))
    updated = _timestamp_from("updated", front_matter.get("updated"))
    return NoteFile(fields=fields, created=created, updated=updated, renamed_tags=renamed_tags)


def is_note_file(name: str) -> bool:
    return name.lower().endswith(_NOTE_SUFFIXES)
