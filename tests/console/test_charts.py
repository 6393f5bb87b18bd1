"""SVG chart geometry: bars scale to the tallest value, labels stay inside, empty data draws nothing."""

from __future__ import annotations

from console import charts


def test_bar_chart_scales_bars_to_a_round_axis() -> None:
    chart = charts.bar_chart([("Mon", 0), ("Tue", 5), ("Wed", 10)])
    bars = chart["bars"]
    assert [b["value"] for b in bars] == [0, 5, 10]
    assert bars[0]["h"] == 0 and bars[2]["h"] == 2 * bars[1]["h"]
    assert bars[2]["y"] == charts.PAD_TOP  # 10 is the axis top
    assert all(b["y"] + b["h"] == chart["baseline"] for b in bars)
    assert [a["label"] for a in chart["axis"]] == ["0", "5", "10"]
    assert all(charts.PAD_LEFT <= b["x"] and b["x"] + b["w"] <= chart["right"] for b in bars)


def test_integer_series_has_no_fractional_gridline() -> None:
    assert [a["label"] for a in charts.bar_chart([("a", 1)])["axis"]] == ["0", "1"]
    assert [a["label"] for a in charts.bar_chart([("a", 0.8)])["axis"]] == ["0", "0.50", "1"]


def test_thirty_days_get_about_six_labels_the_last_anchored_at_its_end() -> None:
    chart = charts.bar_chart([(f"d{i}", i) for i in range(30)])
    labels = chart["x_labels"]
    assert 5 <= len(labels) <= 7 and labels[0]["label"] == "d0" and labels[-1]["label"] == "d29"
    assert labels[-1]["anchor"] == "end"


def test_line_chart_points_follow_values() -> None:
    chart = charts.line_chart([("a", 0), ("b", 100), ("c", 50)])
    ys = [d["y"] for d in chart["dots"]]
    assert ys[0] == chart["baseline"] and ys[1] == charts.PAD_TOP and ys[0] > ys[2] > ys[1]
    assert chart["polyline"].count(",") == 3


def test_breakdown_and_empty_data() -> None:
    chart = charts.hbar_chart([("Pro", 30), ("Team", 10)])
    assert abs(chart["rows"][0]["w"] - 3 * chart["rows"][1]["w"]) < 0.5
    assert charts.hbar_chart([])["rows"] == []
    assert charts.bar_chart([])["bars"] == []
