"""Compile every page template before the server listens, so the first visitor does not pay for Jinja's parsing
and compiling (a few hundred milliseconds for the search page and its macros on a busy machine)."""

from __future__ import annotations

from fastapi import FastAPI


def compile_templates(app: FastAPI) -> int:
    """Load (parse and compile, then cache in the environment) every template; returns how many."""
    env = app.state.templates.env
    names = env.list_templates()
    for name in names:
        env.get_template(name)
    return len(names)
