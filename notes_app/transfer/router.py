"""HTTP routes for moving notes out (GET /export) and in (POST /import)."""

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from notes_app.errors import problem_responses
from notes_app.transfer import export, imports
from notes_app.transfer.dependencies import MARKDOWN_MEDIA_TYPES, ZIP_MEDIA_TYPES, ImportUpload
from notes_app.transfer.schemas import ImportSummary
from notes_app.users.dependencies import CurrentCaller, CurrentUser, TokenCaller

router = APIRouter(tags=["transfer"])


class ZipResponse(StreamingResponse):
    media_type = "application/zip"


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/export",
    response_class=ZipResponse,
    responses={
        200: {
            "description": "Every note (archived ones too, not the trash) as a Markdown file with YAML front "
            "matter, in a ZIP streamed as it is written.",
            "content": {"application/zip": _BINARY},
            "headers": {
                "Content-Disposition": {
                    "description": '`attachment; filename="notes-<username>-<YYYY-MM-DD>.zip"` (UTC date).',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(401, 503),
    },
)
async def export_notes(caller: TokenCaller, user: CurrentUser) -> ZipResponse:
    # The same caller as CurrentUser's (FastAPI solves a dependency once per request); CurrentUser
    # proves it alive and gives the username for the file name.
    chunks = await export.export_archive(caller=caller)
    file_name = f"notes-{user.username}-{datetime.now(UTC):%Y-%m-%d}.zip"
    return ZipResponse(chunks, headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


_UPLOAD: dict[str, Any] = {
    "required": True,
    "content": {
        **{media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in ZIP_MEDIA_TYPES},
        **{media_type: {"schema": {"type": "string"}} for media_type in MARKDOWN_MEDIA_TYPES},
    },
}


@router.post(
    "/import",
    status_code=201,
    openapi_extra={"requestBody": _UPLOAD},
    responses={201: {"model": ImportSummary}, **problem_responses(401, 413, 415, 422, 503)},
)
async def import_notes(request: Request, caller: CurrentCaller, upload: ImportUpload) -> Response:
    body = await request.body()
    plan = await imports.read_upload(owner_id=caller.id, body=body, kind=upload.kind, file_name=upload.file_name)
    result = await imports.write_notes(plan=plan)
    summary = {
        "created": len(result.items),
        "items": [{"file": file, "id": note_id} for file, note_id in result.items],
        "skipped": [{"file": file, "reason": reason} for file, reason in result.skipped],
    }
    return Response(orjson.dumps(summary), status_code=201, media_type="application/json")
