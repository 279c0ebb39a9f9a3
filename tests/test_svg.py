"""The hand-built SVG charts and map (viz/svg.py): well-formed, faithful to the data, labels that never collide."""

from __future__ import annotations

import itertools
import json
import math
import re
import timeit
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from viz.svg import (LABEL_HEIGHT, LABEL_SIZE, Series, legend, line_chart, map_frame, map_layout, map_svg,
                     outline_path, place_labels, text_width)

NS = "{http://www.w3.org/2000/svg}"
CHINA = Path(__file__).resolve().parents[1] / "viz" / "data" / "china.geojson"

CITIES = {"Xi'an": (108.94, 34.34), "Zhengzhou": (113.63, 34.75), "Shanghai": (121.47, 31.23),
          "Hangzhou": (120.16, 30.27), "Hengdian": (120.31, 29.15), "Suzhou": (120.62, 31.30),
          "Nanjing": (118.80, 32.06), "Changzhou": (119.95, 31.72), "Yangzhou": (119.41, 32.39),
          "Sihong": (118.22, 33.47), "Quzhou": (118.87, 28.94), "Fuzhou": (119.30, 26.08),
          "Shenzhen": (114.06, 22.54), "Nanning": (108.37, 22.82), "Jingzhou": (112.24, 30.33)}
NAMES = list(CITIES)
LON = np.array([c[0] for c in CITIES.values()])
LAT = np.array([c[1] for c in CITIES.values()])
COLOURS = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd",
           "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f"]
LEADERS = (0, 1)  # Xi'an and Zhengzhou


@cache
def china_rings() -> list[np.ndarray]:
    geometry = json.loads(CHINA.read_text())["features"][0]["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [np.asarray(ring) for polygon in polygons for ring in polygon]


def month(m: float) -> str:
    total = round(m) - 1
    return f"{2026 + total // 12}-{total % 12 + 1:02d}"


def percent(v: float) -> str:
    return f"{v:.0%}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def path_points(d: str) -> list[np.ndarray]:
    """The sub-paths of an 'M x,y x,y ...' path as (k, 2) arrays."""
    return [np.array([[float(v) for v in p.split(",")] for p in part.split()]).reshape(-1, 2)
            for part in d.split("M") if part.strip()]


def frame_of(root: ET.Element) -> tuple[float, float, float, float]:
    rect = root.find(f"{NS}rect[@class='frame']")
    x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return x, y, x + w, y + h


def series_paths(root: ET.Element) -> dict[str, ET.Element]:
    paths = root.findall(f".//{NS}path[@class='series']")
    return {p.get("data-series"): p for p in paths}


def overlap(a, b) -> bool:
    """Whether two boxes (x0, y0, x1, y1) share some area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --------------------------------------------------------------------------- line charts


def test_one_path_per_series_named_for_hover_and_faithful_to_the_data():
    x = np.arange(1, 61, dtype=float)
    rng = np.random.default_rng(3)
    series = [Series(name, COLOURS[i], x, rng.random(60) * (i + 1)) for i, name in enumerate(NAMES)]
    root = parse(line_chart("Firms <by> city & more", series, x_label=month, y_label=lambda v: f"{v:.0f}"))

    assert root.get("viewBox") == "0 0 340 200" and root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Firms <by> city & more"  # escaped in the markup, intact once parsed
    paths = series_paths(root)
    assert set(paths) == set(NAMES) and len(root.findall(f".//{NS}path[@class='series']")) == len(NAMES)
    x0, y0, x1, y1 = frame_of(root)
    top = max(float(s.y.max()) for s in series)
    for s in series:
        path = paths[s.name]
        assert path.get("fill") == "none" and path.get("stroke") == s.colour
        assert path.find(f"{NS}title").text == s.name
        [points] = path_points(path.get("d"))
        assert len(points) == 60
        assert np.all(np.diff(points[:, 0]) > 0)  # months left to right
        assert np.all((points[:, 0] > x0) & (points[:, 0] < x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1))
        # Higher values are higher up, linearly: y_px = bottom - value * (height / (1.05 * max)).
        expected = y1 - s.y * (y1 - y0) / (1.05 * top)
        assert np.allclose(points[:, 1], expected, atol=0.06)


def test_nan_and_inf_break_the_line_and_isolated_points_are_dots():
    x = np.arange(1, 11, dtype=float)
    y = np.array([1, 2, np.nan, 3, 4, 5, np.inf, 6, np.nan, np.nan])
    root = parse(line_chart("t", [Series("Xi'an", "#1f77b4", x, y)], x_label=month, y_label=str))
    [path] = root.findall(f".//{NS}path[@class='series']")
    parts = path_points(path.get("d"))
    assert [len(p) for p in parts] == [2, 3]  # months 1-2 and 4-6; month 8 stands alone
    dots = root.findall(f".//{NS}circle[@data-series]")
    assert len(dots) == 1 and dots[0].get("data-series") == "Xi'an"
    assert float(dots[0].get("cx")) > parts[1][:, 0].max()


def test_a_one_month_series_is_visible():
    root = parse(line_chart("t", [Series("Xi'an", "#1f77b4", np.array([1.0]), np.array([0.3]))],
                            x_label=month, y_label=percent))
    [dot] = root.findall(f".//{NS}circle[@class='series-point']")
    assert dot.get("data-series") == "Xi'an" and dot.find(f"{NS}title").text == "Xi'an"
    assert float(dot.get("r")) >= 1.5
    x0, y0, x1, y1 = frame_of(root)
    assert x0 < float(dot.get("cx")) < x1 and y0 < float(dot.get("cy")) < y1
    assert [t.text for t in root.findall(f".//{NS}g[@class='ticks']/{NS}text") if t.text == "2026-01"]


def test_faint_lines_are_dashed_thin_and_see_through_muted_ones_see_through_and_underneath():
    x = np.arange(1, 13, dtype=float)
    series = [Series("Zhengzhou", "#aec7e8", x, x), Series("Zhengzhou without reward", "#aec7e8", x, x / 2, faint=True),
              Series("Hangzhou", "#ffbb78", x, x / 3, muted=True)]
    root = parse(line_chart("t", series, x_label=month, y_label=str))
    order = [p.get("data-series") for p in root.findall(f".//{NS}path[@class='series']")]
    assert order.index("Hangzhou") < order.index("Zhengzhou")  # leaders drawn on top
    paths = series_paths(root)
    solid, faint, muted = paths["Zhengzhou"], paths["Zhengzhou without reward"], paths["Hangzhou"]
    assert solid.get("stroke-dasharray") is None and float(solid.get("opacity", 1)) == 1
    assert faint.get("stroke-dasharray") and float(faint.get("opacity")) <= 0.4
    assert float(faint.get("stroke-width")) < float(solid.get("stroke-width"))
    assert faint.get("stroke") == solid.get("stroke")
    assert float(muted.get("opacity")) <= 0.35 and muted.get("stroke-dasharray") is None


def test_reference_line_and_its_label_are_legible_and_inside_the_chart():
    x = np.arange(1, 31, dtype=float)
    label = "capital threshold 50%"
    root = parse(line_chart("share", [Series("Xi'an", "#1f77b4", x, x / 60)], x_label=month, y_label=percent,
                            y_max=1.0, hlines=[(0.5, label)], width=300))
    [group] = root.findall(f".//{NS}g[@class='hline']")
    line, text = group.find(f"{NS}line"), group.find(f"{NS}text")
    x0, y0, x1, y1 = frame_of(root)
    assert float(line.get("y1")) == pytest.approx((y0 + y1) / 2, abs=0.1)  # 0.5 of 0..1
    assert line.get("stroke-dasharray")
    assert text.text == label
    size = float(text.get("font-size") or root.get("font-size"))
    assert size >= 10
    tx = float(text.get("x"))
    assert x0 <= tx and tx + text_width(label, size) <= min(x1, 300)
    assert y0 < float(text.get("y")) < float(line.get("y1"))  # just above the line


def test_auto_range_keeps_reference_lines_on_the_chart():
    x = np.arange(1, 13, dtype=float)
    root = parse(line_chart("share", [Series("a", "#1f77b4", x, x / 100)], x_label=month, y_label=percent,
                            hlines=[(0.5, "capital threshold 50%")]))
    assert root.findall(f".//{NS}g[@class='hline']")
    root = parse(line_chart("share", [Series("a", "#1f77b4", x, x / 100)], x_label=month, y_label=percent,
                            y_max=0.2, hlines=[(0.5, "capital threshold 50%")]))
    assert not root.findall(f".//{NS}g[@class='hline']")  # a fixed range that leaves it out: no line at the edge


def test_shock_markers_carry_their_class_and_full_label():
    x = np.arange(1, 61, dtype=float)
    long = "Zhengzhou raises its reward to 0.30 of a production's cost, for three years"
    root = parse(line_chart("t", [Series("a", "#1f77b4", x, x)], x_label=month, y_label=str,
                            vlines=[(25, long), (26, "Xi'an budget doubled"), (500, "off the chart")]))
    shocks = root.findall(f".//{NS}g[@class='shock']")
    assert len(shocks) == 2  # month 500 is not on a 60-month chart
    assert shocks[0].find(f"{NS}title").text == long
    line = shocks[0].find(f"{NS}line[@class='shock']")
    x0, _, x1, _ = frame_of(root)
    assert x0 < float(line.get("x1")) < x1 and line.get("stroke-dasharray")
    texts = [g.find(f"{NS}text[@class='shock']") for g in shocks]
    assert all(t is not None for t in texts)
    boxes = [(float(t.get("x")) - 1, float(t.get("y")) - 10, float(t.get("x")) - 1 + text_width(t.text, 10),
              float(t.get("y")) + 2) for t in texts]
    assert not overlap(*boxes)  # the second marker's label goes on another row
    assert all(x0 <= b[0] and b[2] <= x1 for b in boxes)
    assert texts[0].text.endswith("…") and len(texts[0].text) < len(long)  # the long one is shortened


def test_x_ticks_are_few_integer_months_with_labels_that_do_not_collide():
    calls = []

    def label(m):
        calls.append(m)
        return month(m)

    x = np.arange(1, 61, dtype=float)
    root = parse(line_chart("t", [Series("a", "#1f77b4", x, x)], x_label=label, y_label=str))
    ticks = [t for t in root.findall(f".//{NS}g[@class='ticks']/{NS}text") if t.get("text-anchor") == "middle"]
    assert 3 <= len(ticks) <= 6
    assert all(float(m).is_integer() for m in calls)
    boxes = sorted((float(t.get("x")) - text_width(t.text, 10) / 2, float(t.get("x")) + text_width(t.text, 10) / 2)
                   for t in ticks)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(boxes))
    assert boxes[0][0] >= 0 and boxes[-1][1] <= 340
    y_ticks = [t for t in root.findall(f".//{NS}g[@class='ticks']/{NS}text") if t.get("text-anchor") == "end"]
    assert 3 <= len(y_ticks) <= 7


def test_empty_and_all_nan_charts_still_draw_a_frame():
    root = parse(line_chart("nothing yet", [], x_label=month, y_label=str))
    assert root.find(f"{NS}rect[@class='frame']") is not None and not series_paths(root)
    x = np.arange(1, 5, dtype=float)
    root = parse(line_chart("t", [Series("a", "#1f77b4", x, np.full(4, np.nan))], x_label=month, y_label=str))
    assert series_paths(root)["a"].get("d") == ""
    with pytest.raises(ValueError):
        line_chart("t", [Series("a", "#1f77b4", x, x[:2])], x_label=month, y_label=str)


def test_values_far_beyond_a_fixed_range_keep_the_markup_short():
    x = np.arange(1, 5, dtype=float)
    svg = line_chart("t", [Series("a", "#1f77b4", x, np.array([0.5, 1e300, -1e300, 0.2]))], x_label=month,
                     y_label=percent, y_max=1.0)
    [points] = path_points(series_paths(parse(svg))["a"].get("d"))
    assert len(points) == 4 and np.all(np.abs(points) < 1e6)
    assert len(svg) < 5000


def test_legend_lists_every_series_and_fades_the_muted():
    root = ET.fromstring(legend(NAMES, COLOURS, muted={2, 3}))
    assert root.get("class") == "legend"
    items = root.findall("span[@class='legend-item']")
    assert [i.get("data-series") for i in items] == NAMES
    swatches = [i.find("span") for i in items]
    assert ["opacity" in w.get("style") for w in swatches] == [i in (2, 3) for i in range(len(NAMES))]
    assert all("opacity" not in i.get("style") for i in items)  # a muted name is not see-through...
    for item in items:  # ...and every name reads at 4.5:1 or more on white (WCAG AA)
        colour = re.search(r"color:(#[0-9a-f]{3,6})", item.get("style")).group(1)
        assert contrast(colour, "#ffffff") >= 4.5, (item.get("data-series"), colour)
    assert "font-size:12px" in root.get("style")


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two '#rgb' or '#rrggbb' colours."""
    def luminance(hex_: str) -> float:
        h = hex_.lstrip("#")
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        c = [int(h[k:k + 2], 16) / 255 for k in (0, 2, 4)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_width_estimates():
    assert text_width("Zhengzhou 31%", 11, bold=True) > text_width("Zhengzhou 31%", 11)
    assert text_width("郑州", 11) > text_width("ab", 11)
    assert text_width("", 11) > 0


# --------------------------------------------------------------------------- labels


def test_place_labels_moves_a_second_label_at_the_same_spot_elsewhere():
    boxes = place_labels([100, 100], [100, 100], [5, 5], [40, 40], 12, [0, 1], (0, 0, 300, 300))
    first, second = boxes
    assert first is not None and second is not None and not overlap(first, second)
    assert first[0] > 100 and first[3] < 100  # the first spot tried: north-east
    # Not in the order: no label.
    assert place_labels([100, 100], [100, 100], [5, 5], [40, 40], 12, [1], (0, 0, 300, 300))[0] is None


def test_place_labels_leaves_off_a_label_with_no_room():
    # Hemmed in by the bounds...
    assert place_labels([50], [50], [5], [40], 12, [0], (40, 40, 60, 60)) == [None]
    # ...or by boxes already taken all around the circle.
    ring = [(0, 0, 200, 93), (0, 107, 200, 200), (0, 0, 93, 200), (107, 0, 200, 200)]
    assert place_labels([100], [100], [5], [40], 12, [0], (0, 0, 200, 200), blocked=ring) == [None]
    assert place_labels([100], [100], [5], [40], 12, [0], (0, 0, 200, 200), blocked=ring[:3])[0] is not None


def test_place_labels_keeps_off_other_cities_centres_unless_allowed():
    # City 1 sits where city 0's north-east label would go: city 0 takes the next spot (south-east).
    boxes = place_labels([100, 120], [100, 92], [3, 1], [30, 30], 12, [0], (0, 0, 300, 300))
    assert boxes[0] is not None and not (boxes[0][0] < 120 < boxes[0][2] and boxes[0][1] < 92 < boxes[0][3])
    assert boxes[0][1] > 100  # below the centre
    # A big circle (not its centre) over the north-east spot: the south-east one is clear, so it is taken...
    boxes = place_labels([100, 130], [100, 75], [3, 15], [30, 30], 12, [0], (0, 0, 300, 300))
    assert boxes[0] is not None and boxes[0][1] > 100
    # ...but with no clear spot, a label may lie on another circle.
    boxes = place_labels([100, 130], [100, 75], [3, 15], [30, 30], 12, [0], (100, 0, 300, 96))  # NE or nothing
    assert boxes[0] is not None and boxes[0][0] > 100 and boxes[0][3] < 100
    # Cities on every side: only a city allowed to cover a centre gets a label.
    xs = [100] + [100 + 30 * math.cos(a) for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
    ys = [100] + [100 + 18 * math.sin(a) for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
    r = [3] * 17
    assert place_labels(xs, ys, r, [60] * 17, 12, [0], (0, 0, 300, 300), may_cover=())[0] is None
    assert place_labels(xs, ys, r, [60] * 17, 12, [0], (0, 0, 300, 300), may_cover={0})[0] is not None


def test_random_crowds_never_get_overlapping_or_outside_labels():
    rng = np.random.default_rng(7)
    bounds = (0.0, 0.0, 460.0, 340.0)
    for _ in range(40):
        n = int(rng.integers(2, 30))
        x, y = rng.uniform(0, 460, n), rng.uniform(0, 340, n)
        r = rng.uniform(2, 25, n)
        widths = rng.uniform(20, 110, n)
        boxes = place_labels(x, y, r, widths, LABEL_HEIGHT, rng.permutation(n).tolist(), bounds,
                             blocked=[(4, 326, 300, 340)])
        drawn = [b for b in boxes if b is not None]
        assert drawn
        for a, b in itertools.combinations(drawn + [(4, 326, 300, 340)], 2):
            assert not overlap(a, b)
        for j, b in enumerate(boxes):
            if b is not None:
                assert bounds[0] <= b[0] and bounds[1] <= b[1] and b[2] <= bounds[2] and b[3] <= bounds[3]
                assert b[2] - b[0] == pytest.approx(widths[j])
                # outside its own circle
                dx = x[j] - min(max(x[j], b[0]), b[2])
                dy = y[j] - min(max(y[j], b[1]), b[3])
                assert math.hypot(dx, dy) >= r[j]


# --------------------------------------------------------------------------- the map


def city_map(area, title="Production companies by city, 2027-06"):
    share = {0: 48, 1: 31}
    labels = [f"{name} {share[j]}%" if j in share else name for j, name in enumerate(NAMES)]
    order = list(LEADERS) + [int(j) for j in np.argsort(-area, kind="stable") if j not in LEADERS]
    muted = set(range(len(NAMES))) - set(LEADERS)
    svg = map_svg(china_rings(), LON, LAT, area, COLOURS, labels, order, set(LEADERS), muted, title=title)
    layout = map_layout(LON, LAT, area, labels, order, set(LEADERS), title=title)
    return svg, layout, labels


AREAS = {
    "even": np.full(15, 120.0),
    "leaders big": np.array([1500, 1100] + [30 + 40 * k for k in range(13)], dtype=float),
    "east big": np.array([200, 150, 1500, 900, 700, 1300, 1200, 800, 600, 400, 300, 250, 1000, 100, 60], dtype=float),
    "random": 30 + 1500 * np.random.default_rng(0).random(15),
}


@pytest.mark.parametrize("case", list(AREAS))
def test_map_labels_leaders_always_and_never_overlap(case):
    area = AREAS[case]
    svg, layout, labels = city_map(area)
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))

    circles = root.findall(f".//{NS}circle[@data-index]")
    assert sorted(int(c.get("data-index")) for c in circles) == list(range(15))
    for c in circles:
        j = int(c.get("data-index"))
        assert float(c.get("r")) == pytest.approx(max(math.sqrt(area[j] / math.pi), 2.0), abs=0.06)
        assert c.find(f"{NS}title").text == labels[j]
        assert (c.get("fill-opacity") is not None) == (j not in LEADERS)

    texts = {int(t.get("data-index")): t for t in root.findall(f".//{NS}text[@class='city-label']")}
    assert set(LEADERS) <= set(texts)
    assert set(texts) == {j for j, b in enumerate(layout.boxes) if b is not None}  # left off: not drawn
    drawn = [layout.boxes[j] for j in texts]
    for a, b in itertools.combinations(drawn, 2):
        assert not overlap(a, b)
    for j, t in texts.items():
        box = layout.boxes[j]
        assert 0 <= box[0] and 0 <= box[1] and box[2] <= width and box[3] <= height
        assert t.text == labels[j]
        assert (t.get("font-weight") == "bold") == (j in LEADERS)
        assert (t.get("fill") == "#555") == (j not in LEADERS)
        # The text sits in its box, anchored on the side towards its circle; baseline inside.
        anchor = t.get("text-anchor", "start")
        expected = {"start": box[0] + 1, "end": box[2] - 1, "middle": (box[0] + box[2]) / 2}[anchor]
        assert float(t.get("x")) == pytest.approx(expected, abs=0.06)
        side = {"start": box[0] >= layout.x[j], "end": box[2] <= layout.x[j],
                "middle": box[0] < layout.x[j] < box[2]}[anchor]
        assert side
        assert box[1] < float(t.get("y")) < box[3]
        assert box[2] - box[0] == pytest.approx(text_width(labels[j], LABEL_SIZE, j in LEADERS))
        # Only the leaders' labels may cover another city's centre.
        if j not in LEADERS:
            assert not any(box[0] < layout.x[k] < box[2] and box[1] < layout.y[k] < box[3]
                           for k in range(15) if k != j)


def test_the_crowded_east_leaves_some_labels_off():
    svg, layout, labels = city_map(AREAS["east big"])
    off = [j for j, b in enumerate(layout.boxes) if b is None]
    assert off
    drawn_texts = [t.text for t in parse(svg).findall(f".//{NS}text[@class='city-label']")]
    assert all(labels[j] not in drawn_texts for j in off)


def test_cities_are_projected_where_they_are():
    frame = map_frame(460, 340)
    _, layout, _ = city_map(AREAS["even"])
    x, y = layout.x, layout.y
    assert np.all(np.diff(x[[13, 0, 1, 6, 2]]) > 0)  # Nanning, Xi'an, Zhengzhou, Nanjing, Shanghai: west to east
    assert y[12] > y[0] > y[1]  # Shenzhen south of Xi'an, south of Zhengzhou
    # 1 degree of latitude is 1.2 degrees of longitude on screen.
    assert (y[0] - y[1]) / (LAT[1] - LAT[0]) == pytest.approx(1.2 * (x[1] - x[0]) / (LON[1] - LON[0]))
    # The extent fits the box below the title.
    assert frame.y0 >= 24 - 1e-9 and frame.x0 >= 0
    assert frame.x0 + 63 * frame.scale <= 460 + 1e-9 and frame.y0 + 37 * 1.2 * frame.scale <= 340 + 1e-9


def test_the_outline_is_one_small_path_projected_once():
    svg, layout, _ = city_map(AREAS["random"])
    assert len(svg.encode()) < 80_000
    root = parse(svg)
    [outline] = root.findall(f"{NS}path[@class='outline']")
    assert outline.get("fill") == "#f2efe6" and outline.get("stroke") == "#8a8a8a"
    rings = path_points(outline.get("d").replace("Z", " "))
    points = np.concatenate(rings)
    raw = sum(len(r) for r in china_rings())
    assert 200 < len(points) < raw  # simplified, still a shape
    assert np.all((points >= 0) & (points <= [460, 340]))
    mainland = max(rings, key=len)
    steps = np.hypot(*np.diff(mainland, axis=0).T)
    assert steps.min() >= 0.5 - 0.1  # no sub-pixel detail left (0.5 px, less the rounding to 0.1)
    # Cached by content: a fresh copy of the rings gets the very same string without projecting again.
    frame = layout.frame
    first = outline_path(china_rings(), frame)
    assert outline_path([r.copy() for r in china_rings()], frame) is first
    again = timeit.timeit(lambda: outline_path(china_rings(), frame), number=20) / 20
    assert again < 2e-3


def test_a_full_page_of_svg_is_quick():
    x = np.arange(1, 61, dtype=float)
    rng = np.random.default_rng(1)
    charts = [[Series(n, COLOURS[j], x, rng.random(60) * 10, muted=j > 1) for j, n in enumerate(NAMES)]
              for _ in range(6)]
    area = AREAS["random"]
    order = list(LEADERS) + [j for j in range(2, 15)]
    rings = china_rings()

    def page():
        for series in charts:
            line_chart("t", series, x_label=month, y_label=lambda v: f"{v:,.0f}", hlines=[(0.5, "threshold")],
                       vlines=[(25, "Zhengzhou reward 0.30")])
        map_svg(rings, LON, LAT, area, COLOURS, NAMES, order, set(LEADERS), set(range(2, 15)), title="map")

    page()  # builds the caches
    per_page = min(timeit.repeat(page, number=5, repeat=3)) / 5
    assert per_page < 0.05  # measured ~3-4 ms here; generous for a loaded machine


def test_every_number_has_at_most_one_decimal():
    x = np.arange(1, 61, dtype=float)
    svg = line_chart("t", [Series("a", "#1f77b4", x, np.sqrt(x))], x_label=month, y_label=lambda v: f"{v:.2f}",
                     hlines=[(math.pi, "pi")], vlines=[(math.e * 10, "e")])
    svg += city_map(AREAS["random"])[0]
    coordinates = re.findall(r' (?:x|y|x1|x2|y1|y2|cx|cy|r|width|height|d)="([^"]*)"', svg)
    assert len(coordinates) > 100
    assert not any(re.search(r"\d\.\d\d", c) for c in coordinates)
    assert any(re.search(r"\d\.\d", c) for c in coordinates)


def test_the_outline_alone_is_the_maps_own_outline_on_the_same_frame():
    from viz.components import china_rings
    from viz.svg import map_svg, outline_data_uri, outline_svg

    rings = china_rings()
    lon, lat = np.array([108.94, 113.63]), np.array([34.34, 34.75])
    full = map_svg(rings, lon, lat, np.array([400.0, 300.0]), ["#1f77b4", "#ff7f0e"], ["Xi'an", "Zhengzhou"], [0, 1],
                   {0, 1}, set(), title="t")
    bare = map_svg(rings, lon, lat, np.array([400.0, 300.0]), ["#1f77b4", "#ff7f0e"], ["Xi'an", "Zhengzhou"], [0, 1],
                   {0, 1}, set(), title="t", outline=False)
    outline = ET.fromstring(outline_svg(rings)).find("{http://www.w3.org/2000/svg}path").get("d")
    assert f'd="{outline}"' in full and 'class="outline"' not in bare
    assert len(bare) < len(full) - len(outline) + 200
    assert outline_data_uri(rings).startswith("data:image/svg+xml,%3Csvg") and "#" not in outline_data_uri(rings)
