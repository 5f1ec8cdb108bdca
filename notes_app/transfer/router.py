"""HTTP routes for moving notes out (GET /export) and in (POST /import)."""

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from tortoise import BaseDBAsyncClient

from notes_app.errors import problem_responses
from notes_app.idempotency.dependencies import (
    KEY_IN_USE_HEADERS,
    REPLAYED_HEADER,
    IdempotencyKeyHeader,
    respond_once,
)
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
async def export_notes(request: Request, caller: TokenCaller, user: CurrentUser) -> ZipResponse:
    # The same caller as CurrentUser's (FastAPI solves a dependency once per request); CurrentUser
    # proves it alive and gives the username for the file name.
    chunks = await export.export_archive(caller=caller, pool_max=request.app.state.settings.db_pool_max)
    file_name = f"notes-{user.username}-{datetime.now(UTC):%Y-%m-%d}.zip"
    return ZipResponse(chunks, headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


_UPLOAD: dict[str, Any] = {
    "required": True,
    "content": {
        **{media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in ZIP_MEDIA_TYPES},
        **{media_type: {"schema": {"type": "string"}} for media_type in MARKDOWN_MEDIA_TYPES},
    },
}


def _import_responses() -> dict[int | str, dict[str, Any]]:
    # As POST /notes: a replayed answer is marked, and a key still in use is 409 with Retry-After.
    responses = problem_responses(401, 409, 413, 415, 422, 503)
    responses[201] = {"model": ImportSummary, "headers": REPLAYED_HEADER}
    responses[409] = {**responses[409], "headers": KEY_IN_USE_HEADERS}
    return responses


@router.post(
    "/import",
    status_code=201,
    openapi_extra={"requestBody": _UPLOAD},
    responses=_import_responses(),
)
async def import_notes(
    request: Request, caller: CurrentCaller, upload: ImportUpload, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    body = await request.body()
    # Read and checked before the key is taken: a long parse holds no transaction, and an upload that is
    # refused (not 2xx) leaves the key free, as the contract wants.
    plan = await imports.read_upload(owner_id=caller.id, body=body, kind=upload.kind, file_name=upload.file_name)

    async def write(connection: BaseDBAsyncClient | None) -> Response:
        result = await imports.write_notes(plan=plan, connection=connection)
        summary = {
            "created": len(result.items),
            "items": [{"file": file, "id": note_id} for file, note_id in result.items],
            "skipped": [{"file": file, "reason": reason} for file, reason in result.skipped],
            "renamed_tags": [{"tag": tag, "imported_as": stored} for tag, stored in result.renamed_tags],
        }
        return Response(orjson.dumps(summary), status_code=201, media_type="application/json")

    return await respond_once(
        request=request, caller=caller, key=idempotency_key, fingerprint=plan.fingerprint, write=write
    )
