"""POST /import's answer."""

from pydantic import BaseModel


class ImportedFile(BaseModel):
    file: str
    id: int


class SkippedFile(BaseModel):
    file: str
    reason: str


class RenamedTag(BaseModel):
    """A tag with white space inside (Joplin allows it), imported with `-` in its place."""

    tag: str  # as written in the file
    imported_as: str


class ImportSummary(BaseModel):
    created: int
    items: list[ImportedFile]
    skipped: list[SkippedFile]
    renamed_tags: list[RenamedTag]
