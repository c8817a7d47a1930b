"""The per-year chart of an author page as inline SVG: no JavaScript, no image files, readable by screen readers
(it carries a title, and the page prints the same numbers in a table)."""

from __future__ import annotations

from markupsafe import Markup, escape


def per_year_svg(per_year: list[dict], width: int = 640, height: int = 180) -> Markup:
    """Two bar series per year (papers, citations), each scaled to its own maximum."""
    if not per_year:
        return Markup("")
    years = list(range(per_year[0]["year"], per_year[-1]["year"] + 1))
    by_year = {row["year"]: row for row in per_year}
    top_papers = max(r["papers"] for r in per_year) or 1
    top_cites = max(r["citations"] for r in per_year) or 1
    left, bottom, top = 8, 22, 14
    slot = (width - 2 * left) / len(years)
    bar = min(28.0, max(2.0, slot * 0.38))
    plot = height - bottom - top
    label = f"Papers and citations per year, {years[0]} to {years[-1]}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
    ]
    step = max(1, len(years) // 12)
    for i, year in enumerate(years):
        row = by_year.get(year, {"papers": 0, "citations": 0})
        x = left + i * slot
        hp = plot * row["papers"] / top_papers
        hc = plot * row["citations"] / top_cites
        parts.append(
            f'<rect class="papers" x="{x:.1f}" y="{top + plot - hp:.1f}" width="{bar:.1f}" height="{hp:.1f}">'
            f'<title>{year}: {row["papers"]} papers</title></rect>'
            f'<rect class="citations" x="{x + bar:.1f}" y="{top + plot - hc:.1f}" width="{bar:.1f}" height="{hc:.1f}">'
            f'<title>{year}: {row["citations"]} citations</title></rect>'
        )
        if i % step == 0:
            parts.append(f'<text x="{x + bar:.1f}" y="{height - 6}" text-anchor="middle">{year}</text>')
    parts.append(
        f'<text x="{left}" y="10" class="legend-papers">■ papers (max {top_papers})</text>'
        f'<text x="{width // 2}" y="10" class="legend-citations">■ citations (max {top_cites})</text></svg>'
    )
    return Markup("".join(parts))
