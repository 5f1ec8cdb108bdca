"""The application factory and the ASGI object `notes_app.main:app`."""

from fastapi import FastAPI

from notes_app.body_limit import BodyLimitMiddleware
from notes_app.config import Settings, get_settings
from notes_app.db import register_database
from notes_app.errors import install_error_handlers
from notes_app.notes.router import router as notes_router
from notes_app.openapi import install_openapi


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="notes_app",
        version="1",
        summary="Notes over HTTP: create, read, replace, patch, list and delete.",
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(notes_router)
    install_openapi(app)
    register_database(app, settings)
    return app


app = create_app()
