"""The per-year chart of an author page as inline SVG: no JavaScript, no image files, readable by screen readers
(it carries a title, and the page prints the same numbers in a table)."""

from __future__ import annotations

from markupsafe import Markup, escape


def per_year_svg(per_year: list[dict], width: int = 640, height: int = 200) -> Markup:
    """Two bar series per year (papers, citations), each scaled to its own maximum.

    Each year's two bars sit together in the middle of the year's slot, with a gap to the next year and the year
    written under the pair, so that a citation bar is never read as the next year's.  The legend is a row of its
    own above the plot, its squares real rectangles filled like the bars (text fill would lose to the chart's
    text colour rule)."""
    if not per_year:
        return Markup("")
    years = list(range(per_year[0]["year"], per_year[-1]["year"] + 1))
    by_year = {row["year"]: row for row in per_year}
    top_papers = max(r["papers"] for r in per_year) or 1
    top_cites = max(r["citations"] for r in per_year) or 1
    left, bottom, top = 8, 24, 30
    slot = (width - 2 * left) / len(years)
    bar = min(28.0, max(2.0, slot * 0.32))
    plot = height - bottom - top
    label = f"Papers and citations per year, {years[0]} to {years[-1]}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>',
        '<rect class="papers" x="8" y="4" width="12" height="12"/>'
        f'<text x="26" y="15">papers (tallest: {max(r["papers"] for r in per_year)})</text>'
        f'<rect class="citations" x="{width * 9 // 20}" y="4" width="12" height="12"/>'
        f'<text x="{width * 9 // 20 + 18}" y="15">citations (tallest: {max(r["citations"] for r in per_year)})</text>',
    ]
    step = max(1, len(years) // 10)
    for i, year in enumerate(years):
        row = by_year.get(year, {"papers": 0, "citations": 0})
        middle = left + (i + 0.5) * slot
        hp = plot * row["papers"] / top_papers
        hc = plot * row["citations"] / top_cites
        parts.append(
            f'<rect class="papers" x="{middle - bar:.1f}" y="{top + plot - hp:.1f}" width="{bar:.1f}" '
            f'height="{hp:.1f}"><title>{year}: {row["papers"]} papers</title></rect>'
            f'<rect class="citations" x="{middle:.1f}" y="{top + plot - hc:.1f}" width="{bar:.1f}" '
            f'height="{hc:.1f}"><title>{year}: {row["citations"]} citations of its papers</title></rect>'
        )
        if i % step == 0:
            parts.append(f'<text x="{middle:.1f}" y="{height - 6}" text-anchor="middle">{year}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
