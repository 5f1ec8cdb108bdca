"""Dependencies shared by every domain."""

from email.message import Message

from fastapi import Depends, Request

from notes_app.errors import UnsupportedMediaType


def _is_json(content_type: str) -> bool:
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def require_json_body(request: Request) -> None:
    """415 for a body that is not declared as JSON. FastAPI would otherwise hand the raw bytes to
    validation and answer a confusing 422."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        if await request.body():
            raise UnsupportedMediaType("send the body as application/json")
    elif not _is_json(content_type):
        raise UnsupportedMediaType(f"{content_type!r} is not supported: send application/json")


JsonBody = Depends(require_json_body)
