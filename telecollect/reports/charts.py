"""Small SVG charts drawn on the server: no script, readable on a projector, printable."""

from html import escape

from flask_babel import gettext as _


def bar_chart(
    values: list[tuple[str, float]],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 26,
    fmt=lambda v: f"{v:,.0f}".replace(",", "."),
) -> str:
    """Horizontal bars, one per (label, value), largest first as given."""
    top = max((v for _label, v in values), default=0) or 1
    label_width, pad = 170, 6
    height = 34 + len(values) * (bar_height + pad)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="0" y="20" class="chart-title">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(values):
        y = 34 + index * (bar_height + pad)
        length = (width - label_width - 110) * value / top
        parts.append(
            f'<text x="0" y="{y + bar_height * 0.7:.0f}" class="chart-label">'
            f"<title>{escape(str(label))}</title>{escape(str(label)[:24])}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" class="chart-bar"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height * 0.7:.0f}" class="chart-value">'
            f"{escape(fmt(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    points: list[tuple[str, float]],
    *,
    title: str,
    width: int = 640,
    height: int = 180,
    fmt=lambda v: f"{v:,.0f}".replace(",", "."),
) -> str:
    """Vertical columns over days, with the first and last day and the peak labelled."""
    top = max((v for _day, v in points), default=0) or 1
    plot = height - 50
    step = width / max(len(points), 1)
    peak = _("highest %(value)s", value=fmt(top))
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="0" y="16" class="chart-title">{escape(title)} · {escape(peak)}</text>',
    ]
    for index, (day, value) in enumerate(points):
        h = plot * value / top
        parts.append(
            f'<rect x="{index * step + 1:.1f}" y="{24 + plot - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" class="chart-bar"><title>{escape(day)}: {escape(fmt(value))}</title></rect>'
        )
    if points:
        parts.append(
            f'<text x="0" y="{height - 6}" class="chart-label">{escape(points[0][0])}</text>'
            f'<text x="{width}" y="{height - 6}" text-anchor="end" class="chart-label">'
            f"{escape(points[-1][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
