"""Page routes (filled in step by step)."""

from __future__ import annotations

from fastapi import FastAPI, Request


def install(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def home(request: Request):
        return request.app.state.templates.TemplateResponse(request, "home.html", {})
