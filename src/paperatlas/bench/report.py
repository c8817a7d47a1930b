"""How every benchmark speaks: a readable table, or with ``--json`` one JSON object with the same figures.

A benchmark builds a flat-ish ``dict`` of figures (names as the issue gives them) and hands it to :func:`emit`.
Nested dicts become sections of the table (e.g. one per dataset or per query kind).
"""

from __future__ import annotations

import platform
import resource
import sys
from typing import Any

import click
import orjson

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")


def peak_rss_mb() -> float:
    """Peak resident memory of this process.

    Linux's ``VmHWM`` is this process image's own high-water mark; ``ru_maxrss`` would also carry the peak of
    whatever process exec'd it (a test runner holding models, say), so it is only the fallback.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.4g}"
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def render_table(title: str, figures: dict[str, Any], indent: int = 0) -> str:
    lines = [title, "=" * len(title)] if indent == 0 else []
    flat = {k: v for k, v in figures.items() if not isinstance(v, dict)}
    width = max((len(k) for k in flat), default=0)
    pad = " " * indent
    for key, value in flat.items():
        lines.append(f"{pad}{key:<{width}}  {_fmt(value)}")
    for key, value in figures.items():
        if isinstance(value, dict):
            lines.append(f"{pad}[{key}]")
            lines.append(render_table(title, value, indent + 2))
    return "\n".join(lines)


def emit(title: str, figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(figures, option=orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")
    else:
        click.echo(render_table(title, figures))
