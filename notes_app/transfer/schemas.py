"""POST /import's answer."""

from pydantic import BaseModel


class ImportedFile(BaseModel):
    file: str
    id: int


class SkippedFile(BaseModel):
    file: str
    reason: str


class ImportSummary(BaseModel):
    created: int
    items: list[ImportedFile]
    skipped: list[SkippedFile]
