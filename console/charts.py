"""Server-side SVG charts: geometry computed here, drawn by templates (no script, CSP-proof)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

WIDTH, HEIGHT = 600, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 8, 10, 24


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float, Decimal)) else 0.0


def _nice_max(value: float) -> float:
    """A round ceiling for the axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _axis(top: float, *, integers: bool) -> list[dict]:
    """Gridlines at 0, half and the top (the half is left out where counts would read "2.5")."""
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    return [
        {"y": round(PAD_TOP + plot_h * (1 - f), 1), "label": _fmt(top * f)}
        for f in (0.0, 0.5, 1.0)
        if not (integers and top * f != int(top * f))
    ]


def _all_integers(values: list[Any]) -> bool:
    return all(isinstance(v, int) for v in values)


def _x_labels(labels: list[str], xs: list[float]) -> list[dict]:
    """About six labels along the bottom, the last always shown."""
    if not labels:
        return []
    n = len(labels)
    step = max(1, n // 6)
    keep = list(range(0, n, step))
    if keep[-1] != n - 1:
        if n - 1 - keep[-1] < step / 2 and len(keep) > 1:
            keep.pop()
        keep.append(n - 1)
    return [
        {"x": round(xs[i], 1), "label": labels[i], "anchor": "end" if i == n - 1 and n > 1 else "middle"} for i in keep
    ]


def bar_chart(points: list[tuple[str, Any]]) -> dict:
    """Vertical bars for a series of (label, value)."""
    values = [_num(v) for _, v in points]
    top = _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(points), 1)
    bar_w = max(slot * 0.7, 1)
    bars, centers = [], []
    for i, ((label, raw), value) in enumerate(zip(points, values, strict=True)):
        h = plot_h * value / top
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        centers.append(x + bar_w / 2)
        bars.append(
            {
                "x": round(x, 1),
                "y": round(PAD_TOP + plot_h - h, 1),
                "w": round(bar_w, 1),
                "h": round(h, 1),
                "label": label,
                "value": raw,
            }
        )
    return {
        "type": "bar",
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        **_frame(points, top, centers, plot_h),
    }


def line_chart(points: list[tuple[str, Any]]) -> dict:
    """A polyline with a dot per point for a series of (label, value)."""
    values = [_num(v) for _, v in points]
    top = _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(points)
    xs = [PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    dots = [
        {"x": round(x, 1), "y": round(PAD_TOP + plot_h * (1 - v / top), 1), "label": label, "value": raw}
        for x, v, (label, raw) in zip(xs, values, points, strict=True)
    ]
    return {
        "type": "line",
        "width": WIDTH,
        "height": HEIGHT,
        "dots": dots,
        "polyline": " ".join(f"{d['x']},{d['y']}" for d in dots),
        **_frame(points, top, xs, plot_h),
    }


def _frame(points: list[tuple[str, Any]], top: float, xs: list[float], plot_h: float) -> dict:
    """What a bar and a line chart share: the value axis, the labels under the points, the edges."""
    return {
        "axis": _axis(top, integers=_all_integers([v for _, v in points])),
        "x_labels": _x_labels([p[0] for p in points], xs),
        "baseline": PAD_TOP + plot_h,
        "left": PAD_LEFT,
        "label_x": PAD_LEFT - 4,
        "x_label_y": HEIGHT - 6,
        "right": WIDTH - PAD_RIGHT,
    }


def hbar_chart(points: list[tuple[str, Any]]) -> dict:
    """Horizontal bars for a breakdown of (label, value), largest first as given."""
    values = [_num(v) for _, v in points]
    top = max(values, default=0) or 1
    row_h, label_w, width = 26, 160, WIDTH
    bar_max = width - label_w - 60
    rows = [
        {
            "y": i * row_h + 4,
            "text_y": i * row_h + 19,
            "w": round(max(bar_max * value / top, 1), 1),
            "label": label,
            "value": raw,
            "value_x": round(label_w + max(bar_max * value / top, 1) + 6, 1),
        }
        for i, ((label, raw), value) in enumerate(zip(points, values, strict=True))
    ]
    return {"type": "hbar", "width": width, "height": max(len(rows) * row_h + 8, 30), "rows": rows, "label_w": label_w}
