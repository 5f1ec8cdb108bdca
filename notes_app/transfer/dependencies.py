"""What kind of upload POST /import was sent, from its headers alone (before reading the body)."""

from dataclasses import dataclass
from email.message import Message
from typing import Annotated

from fastapi import Depends, Request

from notes_app.errors import UnsupportedMediaType
from notes_app.transfer.imports import UploadKind

ZIP_MEDIA_TYPES = ("application/zip", "application/x-zip-compressed")  # the second: Windows browsers
MARKDOWN_MEDIA_TYPES = ("text/markdown", "text/x-markdown")
# The `file` of a single Markdown upload sent without a Content-Disposition file name.
DEFAULT_FILE_NAME = "note.md"


@dataclass(frozen=True)
class Upload:
    kind: UploadKind
    file_name: str


def _header(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


async def _upload(request: Request) -> Upload:
    content_type = request.headers.get("content-type")
    supported = "send application/zip, or one text/markdown file"
    if content_type is None:
        raise UnsupportedMediaType(f"the body has no Content-Type: {supported}")
    declared = _header("content-type", content_type)
    media_type = declared.get_content_type()
    if media_type in ZIP_MEDIA_TYPES:
        return Upload(UploadKind.ZIP, "")
    if media_type not in MARKDOWN_MEDIA_TYPES:
        raise UnsupportedMediaType(f"{content_type!r} is not supported: {supported}")
    if declared.get_content_charset("utf-8") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("send Markdown as UTF-8 (charset=utf-8)")
    disposition = request.headers.get("content-disposition")
    file_name = _header("content-disposition", disposition).get_filename() if disposition else None
    return Upload(UploadKind.MARKDOWN, file_name or DEFAULT_FILE_NAME)


# Which kind of upload this is, and the file name of a single Markdown file; 415 for anything else.
ImportUpload = Annotated[Upload, Depends(_upload)]
