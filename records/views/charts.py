"""Small server-rendered SVG bar charts: no JavaScript, readable without colour, printable."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

PALETTE = ("#0b5cad", "#b35900", "#2e7d32", "#7b3fa0")


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], unit: str = ""
) -> SafeString:
    """Grouped vertical bars, one group per label; the numbers are also in the page's tables."""
    width, height, left, bottom, top = 640, 220, 44, 34, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([v for _, values in series for v in values] + [1])
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(2.0, min(28.0, (slot - 6) / max(len(series), 1)))
    bars = []
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for i, value in enumerate(values):
            h = plot_h * value / peak
            x = left + i * slot + 3 + s_index * bar_w
            bars.append(
                (
                    f"{x:.1f}",
                    f"{top + plot_h - h:.1f}",
                    f"{bar_w - 1:.1f}",
                    f"{h:.1f}",
                    colour,
                    f"{labels[i]} {name}: {value:g}{unit}",
                )
            )
    step = max(1, n // 8)
    ticks = [(f"{left + i * slot + slot / 2:.1f}", labels[i]) for i in range(0, len(labels), step)]
    legend = [(left + 8 + i * 150, PALETTE[i % len(PALETTE)], name) for i, (name, _) in enumerate(series)]
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">'
        "<title>{title}</title>"
        '<line x1="{l}" y1="{base}" x2="{r}" y2="{base}" stroke="#57606a"/>'
        '<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="#57606a">{peak}</text>'
        '<text x="{lx}" y="{base}" font-size="11" text-anchor="end" fill="#57606a">0</text>'
        "{bars}{ticks}{legend}</svg>",
        w=width,
        h=height + 18,
        title=title,
        l=left,
        r=width - 8,
        base=top + plot_h,
        lx=left - 4,
        ty=top + 10,
        peak=f"{peak:g}{unit}",
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
            bars,
        ),
        ticks=format_html_join(
            "",
            '<text x="{}" y="' + str(top + plot_h + 16) + '" font-size="11" text-anchor="middle">{}</text>',
            ticks,
        ),
        legend=format_html_join(
            "",
            '<rect x="{}" y="' + str(height + 2) + '" width="12" height="12" fill="{}"/>'
            '<text x="{}" y="' + str(height + 12) + '" font-size="12">{}</text>',
            [(x, c, x + 16, name) for x, c, name in legend],
        ),
    )
