"""Hand-built SVG for the browser app: line charts, their legend and the city map.

The page used to draw these with matplotlib to PNG on every step (~400 ms on
the server). Here they are plain strings built with NumPy and string joins,
a few milliseconds per step, and the page needs nothing from outside:
the browser gets the markup through ``solara.HTML(tag="div", unsafe_innerHTML=...)``.

All functions are pure (same arguments, same string). Coordinates are SVG
pixels rounded to 1 decimal, text is escaped with ``html.escape``. Text is
measured with a per-character estimate (:func:`text_width`), generous for a
sans-serif font, so that what is laid out as fitting does fit in the browser.

A city label's box, as :func:`place_labels` and :func:`map_layout` use it, is
``text_width(text, LABEL_SIZE, bold)`` wide and ``LABEL_HEIGHT`` high; the text
is drawn in it, on the side nearest its circle (the estimate is generous, so
the text is anchored where the box touches the circle: start 1 px inside a box
to the east, end 1 px inside one to the west, middle for one above or below),
with its baseline at ``box_y0 + BASELINE * LABEL_SIZE``.
"""

from __future__ import annotations

import html
import math
import operator
import unicodedata
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter

import numpy as np

SVG_NS = "http://www.w3.org/2000/svg"

# Text metrics: average advance per character as a fraction of the font size
# (deliberately wide for sans-serif, so estimates err towards "does not fit").
CHAR_WIDTH = 0.62
CHAR_WIDTH_BOLD = 0.68
WIDE_CHAR_WIDTH = 1.05  # CJK and other full-width characters
TEXT_PAD = 2.0  # px added to every estimated width (1 px each side)
BASELINE = 0.97  # baseline below a text box's top, in font sizes (box height 1.25 font sizes)

TITLE_SIZE = 12
TICK_SIZE = 10
LABEL_SIZE = 11
LABEL_HEIGHT = 1.25 * LABEL_SIZE
CAPTION_SIZE = 10
MAP_TOP = 24  # px kept above the map for its title

OUTLINE_FILL = "#f2efe6"
OUTLINE_STROKE = "#8a8a8a"
SHOCK_COLOUR = "#8b0000"
MUTED_TEXT = "#555"
MAP_CAPTION = "circle area: companies; highlighted cities show their 12-month share"

FAINT_OPACITY = 0.35
MUTED_OPACITY = 0.3
MUTED_FILL_OPACITY = 0.35

# Largest |coordinate| written: keeps absurd values (1e300 beyond a fixed y_max) from
# producing 300-digit numbers; the clip path hides everything that far out anyway.
_FAR = 1e5


@dataclass(frozen=True)
class Series:
    """One line of a chart: a city's values by month.

    ``faint``: a counterfactual line (same colour, dashed, thin, see-through).
    ``muted``: a city that is not among the contest's leaders (see-through).
    """

    name: str
    colour: str  # '#rrggbb'
    x: np.ndarray
    y: np.ndarray
    faint: bool = False
    muted: bool = False


@dataclass(frozen=True)
class Band:
    """A shaded range behind a line: the 5th to 95th percentile of a city's value over runs, by month."""

    name: str
    colour: str
    x: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


BAND_OPACITY = 0.2


# --------------------------------------------------------------------------- helpers


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}"


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width in px of `text` at font size `size`, plus `TEXT_PAD`.

    ~0.62 (bold 0.68) font sizes per character, full-width characters (CJK) ~1.05.
    An estimate, not a measurement: it is cheap and errs on the wide side.
    """
    per = CHAR_WIDTH_BOLD if bold else CHAR_WIDTH
    if text.isascii():
        return len(text) * per * size + TEXT_PAD
    units = sum(WIDE_CHAR_WIDTH if unicodedata.east_asian_width(c) in "WF" else per for c in text)
    return units * size + TEXT_PAD


# Formatting floats is most of a chart's cost, so coordinates in the usual range are looked up
# as ready-made strings, indexed by tenths of a pixel (built once, ~10 ms and ~2 MB).
_TABLE_LO, _TABLE_HI = -1000, 16000  # tenths of a px: -100.0 .. 1599.9


@cache
def _tenths() -> tuple[list[str], list[str]]:
    """'-100.0' .. '1599.9', and the same with a trailing comma (the x of an 'x,y' pair)."""
    plain = [f"{i / 10:.1f}" for i in range(_TABLE_LO, _TABLE_HI)]
    return [t + "," for t in plain], plain


def _points(px: np.ndarray, py: np.ndarray) -> list[str]:
    """'x,y' strings, one decimal, for arrays of SVG coordinates (vectorised: a table look-up per coordinate)."""
    if not len(px):
        return []
    qx, qy = np.rint(px * 10), np.rint(py * 10)
    inside = (qx >= _TABLE_LO) & (qx < _TABLE_HI) & (qy >= _TABLE_LO) & (qy < _TABLE_HI)  # False for NaN
    if not inside.all():  # the table for the rest, plain formatting for the points off it (or not finite)
        out = _points(np.where(inside, px, 0.0), np.where(inside, py, 0.0))
        for i in np.flatnonzero(~inside).tolist():
            out[i] = f"{px[i]:.1f},{py[i]:.1f}"
        return out
    with_comma, plain = _tenths()
    ix = (qx - _TABLE_LO).astype(np.intp).tolist()
    iy = (qy - _TABLE_LO).astype(np.intp).tolist()
    if len(ix) == 1:
        return [with_comma[ix[0]] + plain[iy[0]]]
    return list(map(operator.add, itemgetter(*ix)(with_comma), itemgetter(*iy)(plain)))


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges of the True runs in a boolean array (the finite stretches of a line)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], ok, [False]]).astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 times a power of ten) in [lo, hi], as close to `target` of them as can be."""
    span = hi - lo
    if not (span > 0 and math.isfinite(span)):
        return [lo]
    e = math.floor(math.log10(span / target))
    best = None
    for k in (e - 1, e, e + 1):
        for m in (1.0, 2.0, 2.5, 5.0):
            step = m * 10.0**k
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            count = last - first + 1
            score = (abs(count - target), -step)  # ties: the larger step (fewer, rounder labels)
            if best is None or score < best[0]:
                best = (score, step, first, last)
    _, step, first, last = best
    # Round away float noise (0.30000000000000004) so that the caller's formatter sees clean values.
    return [round(i * step, 12) for i in range(first, last + 1)]


# Month-friendly integer steps for the x axis: quarters, half-years, years...
X_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120, 240, 600, 1200)
X_ANCHOR = 1  # ticks at 1 + k * step: month 1 is the first month of the run, so ticks fall on its anniversaries


def nice_floor(value: float) -> float:
    """A round number at or below `value` (a tick of `_nice_ticks` over [value, 0]): where a chart of signed values
    starts its y axis."""
    if value >= 0:
        return 0.0
    ticks = _nice_ticks(value, 0.0)
    below = [t for t in ticks if t <= value]
    if below:
        return max(below)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(value)
    return math.floor(value / step) * step


def _x_ticks(lo: float, hi: float, px_per_unit: float, x_label: Callable[[float], str],
             max_ticks: int = 6) -> list[tuple[float, str]]:
    """Integer x ticks in [lo, hi]: the smallest step giving <= `max_ticks` ticks whose labels do not collide."""
    for step in X_STEPS:
        first = math.ceil((lo - X_ANCHOR) / step)
        last = math.floor((hi - X_ANCHOR) / step)
        ticks = [X_ANCHOR + k * step for k in range(first, last + 1)]
        if len(ticks) > max_ticks:
            continue
        texts = [x_label(t) for t in ticks]
        widest = max((text_width(t, TICK_SIZE) for t in texts), default=0.0)
        if len(ticks) <= 1 or step * px_per_unit >= widest + 6:
            return list(zip(ticks, texts))
    return []


# --------------------------------------------------------------------------- line charts


def line_chart(title: str, series: list[Series], *, x_label: Callable[[float], str], y_label: Callable[[float], str],
               width: int = 340, height: int = 200, y_min: float = 0.0, y_max: float | None = None,
               hlines: Sequence[tuple[float, str]] = (), vlines: Sequence[tuple[float, str]] = (),
               bands: Sequence[Band] = ()) -> str:
    """One time-series chart as an ``<svg class="chart">`` string.

    x values are month numbers (1..N), shown with `x_label` (e.g. as "2026-03") at
    ~5 integer ticks; y ticks (~5 round values) are shown with `y_label`.
    The y range is `y_min`..`y_max`, or, without `y_max`, `y_min` up to 5% above
    the largest finite value of the series, the `bands` and the `hlines` (so a reference
    line is never off the chart); y_min + 1 when there is nothing above `y_min`.
    The x range is the series' x range padded by half a month each side.

    Each series is one ``<path class="series" data-series=name>`` (NaN/inf
    break it into sub-paths) with a ``<title>`` naming it, plus a small circle
    for each point that has no finite neighbour (so a one-month series shows).
    Muted series are drawn first so that the leaders stay on top.

    `hlines`: (y, label) dashed black reference lines, label above the line at
    the left of the plot. `vlines`: (x, label) or (x, short label, full label) dark-red dashed markers
    (``class="shock"``) with a short label at the top and the full label on hover.
    `bands`: shaded ranges (``<path class="band">``, one per finite stretch of
    lo and hi), drawn under every line.
    """
    xs = [np.asarray(s.x, dtype=float) for s in series]
    ys = [np.asarray(s.y, dtype=float) for s in series]
    for s, x, y in zip(series, xs, ys):
        if x.shape != y.shape:
            raise ValueError(f"series {s.name!r}: x and y differ in shape ({x.shape} vs {y.shape})")

    # Ranges.
    finite_x = np.concatenate([x[np.isfinite(x)] for x in xs]) if xs else np.empty(0)
    has_x = finite_x.size > 0
    if y_max is None:
        finite_y = [y[np.isfinite(y)] for y in ys] + [np.asarray(b.hi, float)[np.isfinite(b.hi)] for b in bands]
        tops = [float(v.max()) for v in finite_y if v.size] + [float(v) for v, _ in hlines if math.isfinite(v)]
        top = max(tops, default=-math.inf)
        y_hi = y_min + 1.05 * (top - y_min) if top > y_min else y_min + 1.0
    else:
        if not y_max > y_min:
            raise ValueError(f"y_max ({y_max}) must be above y_min ({y_min})")
        y_hi = float(y_max)
    y_lo = float(y_min)
    x_lo, x_hi = (float(finite_x.min()) - 0.5, float(finite_x.max()) + 0.5) if has_x else (0.5, 1.5)

    # Plot box: the left margin fits the widest y tick label.
    y_ticks = _nice_ticks(y_lo, y_hi)
    y_texts = [y_label(t) for t in y_ticks]
    left = max(28.0, max((text_width(t, TICK_SIZE) for t in y_texts), default=0.0) + 6.0)
    right, top_px, bottom = width - 10.0, 22.0, height - 18.0
    sx = (right - left) / (x_hi - x_lo)
    sy = (bottom - top_px) / (y_hi - y_lo)

    def px(v):
        return left + (v - x_lo) * sx

    def py(v):
        return top_px + (y_hi - v) * sy

    x_ticks = _x_ticks(float(finite_x.min()), float(finite_x.max()), sx, x_label) if has_x else []

    out = [(f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="chart" '
           f'role="img" font-family="sans-serif" font-size="{TICK_SIZE}">'),
           f"<title>{_esc(title)}</title>",
           f'<text x="4" y="14" font-size="{TITLE_SIZE}" font-weight="bold">{_esc(title)}</text>']

    # Grid (one path) and tick labels.
    grid = [f"M{_f(left)},{_f(py(t))}H{_f(right)}" for t in y_ticks]
    grid += [f"M{_f(px(t))},{_f(top_px)}V{_f(bottom)}" for t, _ in x_ticks]
    out.append(f'<path class="grid" d="{"".join(grid)}" stroke="#e3e3e3" stroke-width="1" fill="none"/>')
    out.append(f'<rect class="frame" x="{_f(left)}" y="{_f(top_px)}" width="{_f(right - left)}" '
               f'height="{_f(bottom - top_px)}" fill="none" stroke="#999" stroke-width="0.8"/>')
    labels = [f'<text x="{_f(left - 4)}" y="{_f(py(t) + 3.5)}" text-anchor="end">{_esc(s)}</text>'
              for t, s in zip(y_ticks, y_texts)]
    for t, s in x_ticks:  # centred under the tick, but kept inside the SVG
        half = text_width(s, TICK_SIZE) / 2
        cx = min(max(px(t), half), width - half)
        labels.append(f'<text x="{_f(cx)}" y="{_f(bottom + 13)}" text-anchor="middle">{_esc(s)}</text>')
    out.append(f'<g class="ticks" fill="#333">{"".join(labels)}</g>')

    # Series, clipped to the plot (a fixed y_max may cut values off). The id only has to be
    # unique on the page for different geometry: equal ids mean equal rectangles.
    clip = "clip{:08x}".format(zlib.crc32(f"{title}|{width}|{height}|{left:.1f}".encode()))
    out.append(f'<clipPath id="{clip}"><rect x="{_f(left)}" y="{_f(top_px - 2)}" width="{_f(right - left)}" '
               f'height="{_f(bottom - top_px + 4)}"/></clipPath><g clip-path="url(#{clip})" fill="none" '
               f'stroke-linejoin="round" stroke-linecap="round">')
    for b in bands:
        out.append(_band_svg(b, px, py))
    # All the chart's points are projected and formatted at once, then sliced per series: with
    # ~15 short series, per-series NumPy calls would cost more than the maths itself.
    starts = np.cumsum([0] + [len(x) for x in xs]).tolist()
    points, ok, bad = [], np.empty(0, bool), np.empty(0, np.intp)
    if xs:
        all_x, all_y = np.concatenate(xs), np.concatenate(ys)
        ok = np.isfinite(all_x) & np.isfinite(all_y)
        points = _points(np.clip(px(all_x), -_FAR, _FAR), np.clip(py(all_y), -_FAR, _FAR))
        bad = np.flatnonzero(~ok)
    for i in sorted(range(len(series)), key=lambda i: not series[i].muted):  # muted first: leaders on top
        a, b = starts[i], starts[i + 1]
        if not bad.size or not ((bad >= a) & (bad < b)).any():
            runs = [(a, b)] if b > a else []
        else:
            runs = [(a + u, a + v) for u, v in _runs(ok[a:b])]
        out.append(_series_svg(series[i], points, runs))
    out.append("</g>")

    for value, text in hlines:
        if not (y_lo <= value <= y_hi):
            continue
        y = py(value)
        # Above the line at the left (never cut off at the right); below it if the top is too close.
        ty = y - 3 if y - 3 - TICK_SIZE >= top_px else y + TICK_SIZE + 2
        out.append(f'<g class="hline"><line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="#000" '
                   f'stroke-width="1" stroke-dasharray="5 3"/><text x="{_f(left + 4)}" y="{_f(ty)}" '
                   f'stroke="#fff" stroke-width="2.5" paint-order="stroke">{_esc(text)}</text></g>')

    out.extend(_vlines_svg(vlines, x_lo, x_hi, px, left, right, top_px, bottom))
    out.append("</svg>")
    return "".join(out)


def _band_svg(b: Band, px, py) -> str:
    """A band as one path: each finite stretch of (lo, hi) closed along hi forwards and lo backwards."""
    x, lo, hi = (np.asarray(v, dtype=float) for v in (b.x, b.lo, b.hi))
    ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
    parts = []
    for a, e in _runs(ok):
        if e - a < 2:
            continue
        xs = np.clip(px(x[a:e]), -_FAR, _FAR)
        top = _points(xs, np.clip(py(hi[a:e]), -_FAR, _FAR))
        bottom = _points(xs[::-1], np.clip(py(lo[a:e][::-1]), -_FAR, _FAR))
        parts.append("M" + " ".join(top) + "L" + " ".join(bottom) + "Z")
    if not parts:
        return ""
    name = _esc(b.name)
    return (f'<path class="band" data-series="{name}" d="{"".join(parts)}" fill="{_esc(b.colour)}" '
            f'fill-opacity="{BAND_OPACITY}" stroke="none"><title>{name}</title></path>')


def _series_svg(s: Series, points: list[str], runs: list[tuple[int, int]]) -> str:
    """One series' path (and dots for isolated points); `points` are formatted 'x,y', `runs` its finite stretches."""
    if s.faint:  # a counterfactual: thin, dashed, see-through (fainter still for a muted city)
        style = ' stroke-width="1" stroke-dasharray="4 3"'
        opacity = FAINT_OPACITY * (0.6 if s.muted else 1.0)
    else:
        style = ' stroke-width="1.4"'
        opacity = MUTED_OPACITY if s.muted else None
    fade = f' opacity="{opacity:.2f}"' if opacity is not None else ""
    colour = _esc(s.colour)
    name = _esc(s.name)
    d = "".join("M" + " ".join(points[a:b]) for a, b in runs if b - a > 1)
    parts = [(f'<path class="series" data-series="{name}" d="{d}" fill="none" stroke="{colour}"{style}{fade}>'
             f"<title>{name}</title></path>")]
    for a, b in runs:
        if b - a == 1:  # a point with no finite neighbour: a line through it would be invisible
            cx, cy = points[a].split(",")
            parts.append(f'<circle class="series-point" data-series="{name}" cx="{cx}" cy="{cy}" r="2.2" '
                         f'fill="{colour}" stroke="none"{fade}><title>{name}</title></circle>')
    return "".join(parts)


def _vlines_svg(vlines, x_lo, x_hi, px, left, right, top_px, bottom) -> list[str]:
    """Dark-red dashed markers with a short label at the top; labels that would collide go on a lower row."""
    out = []
    rows: list[list[tuple[float, float]]] = [[], [], []]  # label extents already used on each row
    for value, short, *full in vlines:  # (x, label) or (x, short label, full label for hover)
        text = full[0] if full else short
        if not (x_lo <= value <= x_hi):
            continue
        x = px(value)
        room = max(60.0, 0.6 * (right - left))  # a small label: the full one shows on hover
        while text_width(short, TICK_SIZE) > room and len(short) > 1:
            short = short[:-2] + "…"
        w = text_width(short, TICK_SIZE)
        # Right of the line if it fits, else left of it, else as far right as the plot allows.
        x0 = x + 3 if x + 3 + w <= right else (x - 3 - w if x - 3 - w >= left else max(left + 2, right - w - 2))
        row = next((r for r, used in enumerate(rows) if all(x0 + w <= a or x0 >= b for a, b in used)), None)
        label = ""
        if row is not None:
            rows[row].append((x0, x0 + w))
            label = (f'<text class="shock" x="{_f(x0 + 1)}" y="{_f(top_px + 11 + 12 * row)}" fill="{SHOCK_COLOUR}" '
                     f'stroke="#fff" stroke-width="2.5" paint-order="stroke">{_esc(short)}</text>')
        out.append(f'<g class="shock"><title>{_esc(text)}</title>'
                   f'<line class="shock" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top_px)}" y2="{_f(bottom)}" '
                   f'stroke="{SHOCK_COLOUR}" stroke-width="1" stroke-dasharray="3 2"/>'
                   # a wider invisible line, so the marker is easy to hover
                   f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top_px)}" y2="{_f(bottom)}" stroke="transparent" '
                   f'stroke-width="6"/>{label}</g>')
    return out


def legend(names: list[str], colours: list[str], muted: Iterable[int] = frozenset()) -> str:
    """The series' names with colour swatches, as an HTML ``<div class="legend">`` that wraps with the page.

    Entries in `muted` (indices) are shown see-through, as their lines are.
    """
    muted = set(muted)
    items = []
    for i, (name, colour) in enumerate(zip(names, colours)):
        # A muted city's swatch fades as its line does; its name stays readable (#555 on white is 7.5:1).
        fade = ";opacity:0.45" if i in muted else ""
        text = f";color:{MUTED_TEXT}" if i in muted else ";color:#222"
        items.append(f'<span class="legend-item" data-series="{_esc(name)}" style="display:inline-flex;'
                     f'align-items:center;gap:4px;white-space:nowrap{text}"><span style="display:inline-block;'
                     f'width:14px;height:3px;background:{_esc(colour)}{fade}"></span>{_esc(name)}</span>')
    return ('<div class="legend" style="display:flex;flex-wrap:wrap;gap:2px 12px;font-size:12px;'
            f'font-family:sans-serif">{"".join(items)}</div>')


# --------------------------------------------------------------------------- the map


@dataclass(frozen=True)
class Frame:
    """Where lon/lat land in the SVG: px = x0 + (lon - lon_min) * scale, py = y0 + (lat_max - lat) * scale * aspect."""

    x0: float
    y0: float
    scale: float
    aspect: float
    lon_min: float
    lat_max: float


def map_frame(width: int, height: int, extent: tuple[float, float, float, float] = (73.0, 136.0, 17.0, 54.0),
              aspect: float = 1.2, top: float = MAP_TOP, margin: float = 4.0) -> Frame:
    """The equirectangular projection fitting `extent` (lon_min, lon_max, lat_min, lat_max) into the SVG.

    One degree of latitude is `aspect` times one degree of longitude on screen;
    the map is centred in the box below the `top` px kept for the title.
    """
    lon0, lon1, lat0, lat1 = extent
    box_w, box_h = width - 2 * margin, height - top - margin
    scale = min(box_w / (lon1 - lon0), box_h / ((lat1 - lat0) * aspect))
    x0 = margin + (box_w - (lon1 - lon0) * scale) / 2
    y0 = top + (box_h - (lat1 - lat0) * aspect * scale) / 2
    return Frame(x0, y0, scale, aspect, lon0, lat1)


def project(lon, lat, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """SVG px of lon/lat arrays (vectorised)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return frame.x0 + (lon - frame.lon_min) * frame.scale, frame.y0 + (frame.lat_max - lat) * frame.scale * frame.aspect


_OUTLINE_CACHE: dict[tuple, str] = {}
_OUTLINE_CACHE_SIZE = 8


def outline_path(rings: Sequence[np.ndarray], frame: Frame, tolerance: float = 0.5) -> str:
    """The SVG path data ("M x,y ... Z" per ring) of lon/lat polygon rings, simplified and cached.

    Points closer than `tolerance` px to the previous kept point are dropped
    (the outline's 0.01-degree detail is far below a pixel here), and rings
    that shrink below a triangle are left out. The result is cached by the
    rings' contents (a hash of their bytes, ~30 µs) and the frame, so callers
    may pass the same or a fresh list each step: only the first call projects.
    """
    arrays = [np.ascontiguousarray(r, dtype=float) for r in rings]
    key = (frame, tolerance, tuple((a.shape, hash(a.tobytes())) for a in arrays))
    cached = _OUTLINE_CACHE.get(key)
    if cached is not None:
        return cached
    parts = []
    for ring in arrays:
        if ring.ndim != 2 or ring.shape[0] < 3:
            continue
        x, y = project(ring[:, 0], ring[:, 1], frame)
        keep = _thin(x, y, tolerance)
        if len(keep) > 1 and x[keep[-1]] == x[keep[0]] and y[keep[-1]] == y[keep[0]]:
            keep = keep[:-1]  # the closing point: Z closes the ring
        if len(keep) >= 3:
            parts.append(f"M{' '.join(_points(x[keep], y[keep]))}Z")
    path = "".join(parts)
    if len(_OUTLINE_CACHE) >= _OUTLINE_CACHE_SIZE:
        _OUTLINE_CACHE.pop(next(iter(_OUTLINE_CACHE)))  # oldest first
    _OUTLINE_CACHE[key] = path
    return path


def _thin(x: np.ndarray, y: np.ndarray, tolerance: float) -> list[int]:
    """Indices of the points kept: each at least `tolerance` from the previous kept one (sequential, so a loop;
    it runs once per outline thanks to the cache)."""
    keep = [0]
    lx, ly = x[0], y[0]
    t2 = tolerance * tolerance
    for i, (a, b) in enumerate(zip(x.tolist(), y.tolist())):
        if (a - lx) ** 2 + (b - ly) ** 2 >= t2:
            keep.append(i)
            lx, ly = a, b
    return keep


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in px, y down



def _candidates(cx: float, cy: float, r: float, w: float, h: float, gap: float) -> list[Box]:
    """The 8 candidate boxes (x0, y0, x1, y1) just outside a circle, in the order tried: NE, SE, NW, SW, E, W, N, S."""
    d = r * 0.7071067811865476 + gap  # diagonal spots: the box's corner just off the circle at 45 degrees
    e = r + gap + 1
    corners = ((cx + d, cy - d - h), (cx + d, cy + d), (cx - d - w, cy - d - h), (cx - d - w, cy + d),
               (cx + e, cy - h / 2), (cx - e - w, cy - h / 2), (cx - w / 2, cy - e - h), (cx - w / 2, cy + e))
    return [(x0, y0, x0 + w, y0 + h) for x0, y0 in corners]


def place_labels(x, y, r, widths, height, order: Sequence[int], bounds: Box, *,
                 blocked: Sequence[Box] = (), gap: float = 2.0, pad: float = 1.0,
                 rim: float = 2.0, near: float = 6.0, may_cover: Collection[int] | None = None) -> list[Box | None]:
    """Boxes for the cities' labels such that none overlaps another: a greedy pass in `order`.

    x, y, r: circle centres and radii (px); widths: label widths (px);
    height: label height (px, scalar or per city); bounds: (x0, y0, x1, y1)
    the boxes must lie in; blocked: boxes already taken (title, caption).
    Each city in `order` tries 8 spots around its circle (NE, SE, NW, SW, E,
    W, N, S, `gap` px off it). A spot is possible if its box is inside
    `bounds` and at least `pad` px from every box taken so far. Of the
    possible spots it keeps the first that lies clear of every other city's
    circle (`rim` px of overlap allowed) and at least `near` px from its edge
    (a label that close to another circle reads as that city's), else the first that only grazes
    other circles (reaching less than half-way to their centres), else (only
    for cities in `may_cover`; None: all) the first possible one. So a label
    may sit on the edge of another circle, but never on another label, nor,
    unless allowed, on or near another city's centre, where it would read as
    that city's label; with no spot left the label is left off (None).
    Cities not in `order` get None. Returns one entry per city.
    """
    # Plain Python floats: for a map's dozens of cities this is several times faster than NumPy.
    xs, ys, rs, ws = (np.asarray(v, dtype=float).tolist() for v in (x, y, r, widths))
    n = len(xs)
    hs = np.broadcast_to(np.asarray(height, dtype=float), (n,)).tolist()
    circles = [(k, cx, cy, cr) for k, (cx, cy, cr) in enumerate(zip(xs, ys, rs))
               if math.isfinite(cx) and math.isfinite(cy) and math.isfinite(cr)]
    out: list[Box | None] = [None] * n
    taken = [tuple(float(v) for v in box) for box in blocked]
    bx0, by0, bx1, by1 = bounds
    for j in order:
        if not (math.isfinite(xs[j]) and math.isfinite(ys[j]) and math.isfinite(rs[j])):
            continue
        others = [(cx, cy, cr) for k, cx, cy, cr in circles if k != j]
        cover = may_cover is None or j in may_cover
        best, best_tier = None, 3
        for box in _candidates(xs[j], ys[j], rs[j], ws[j], hs[j], gap):
            x0, y0, x1, y1 = box
            if x0 < bx0 or y0 < by0 or x1 > bx1 or y1 > by1:
                continue
            if any(x0 < t2 + pad and t0 < x1 + pad and y0 < t3 + pad and t1 < y1 + pad for t0, t1, t2, t3 in taken):
                continue
            # One pass over the other circles: how far the box reaches into each (0 = over its centre).
            tier = 0
            for cx, cy, cr in others:
                dx = cx - min(max(cx, x0), x1)  # from the centre to the box's nearest point
                dy = cy - min(max(cy, y0), y1)
                d2 = dx * dx + dy * dy
                if d2 < 0.25 * cr * cr or d2 == 0.0:
                    tier = 2  # on or near another city's centre: it would read as that city's label
                    break
                if (d2 < (cr - rim) ** 2 and cr > rim) or d2 < (cr + near) ** 2:
                    tier = 1  # on the edge of another city's circle, or so close to it that it reads as its label
            if tier == 2 and not cover:
                continue
            if tier == 0:
                best = box
                break  # clear of everything: no better spot to find
            if tier < best_tier:
                best, best_tier = box, tier
        if best is not None:
            out[j] = best
            taken.append(best)
    return out


@dataclass(frozen=True)
class MapLayout:
    """Where map_svg puts things: circle centres and radii (px) and label boxes (None: label left off)."""

    frame: Frame
    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    boxes: list[Box | None]


def _title_box(title: str) -> Box:
    return (4.0, 3.0, 4.0 + text_width(title, TITLE_SIZE, bold=True), 3.0 + 1.25 * TITLE_SIZE)


def _caption_box(height: int) -> Box:
    return (4.0, height - 4.0 - CAPTION_SIZE, 4.0 + text_width(MAP_CAPTION, CAPTION_SIZE), float(height))


def map_layout(lon, lat, area, labels: Sequence[str], order: Sequence[int], bold: Iterable[int] = frozenset(), *,
               title: str = "", width: int = 460, height: int = 340,
               extent: tuple[float, float, float, float] = (73.0, 136.0, 17.0, 54.0), aspect: float = 1.2) -> MapLayout:
    """The geometry map_svg draws: projected centres, radii (r = sqrt(area / pi), at least 2 px) and label boxes.

    Labels avoid each other, the title and the caption, and stay inside the SVG;
    only the `bold` ones (the leaders, which must show) may cover another city's centre.
    """
    frame = map_frame(width, height, extent, aspect)
    x, y = project(lon, lat, frame)
    area = np.nan_to_num(np.asarray(area, dtype=float), nan=0.0, posinf=0.0)
    r = np.maximum(np.sqrt(np.maximum(area, 0.0) / math.pi), 2.0)
    bold = set(bold)
    widths = [text_width(t, LABEL_SIZE, j in bold) for j, t in enumerate(labels)]
    blocked = [_caption_box(height)] + ([_title_box(title)] if title else [])
    boxes = place_labels(x, y, r, widths, LABEL_HEIGHT, order, (0.0, 0.0, float(width), float(height)),
                         blocked=blocked, may_cover=bold)
    return MapLayout(frame, x, y, r, boxes)


def outline_svg(rings: list[np.ndarray], *, width: int = 460, height: int = 340,
                extent: tuple[float, float, float, float] = (73.0, 136.0, 17.0, 54.0), aspect: float = 1.2) -> str:
    """The outline alone, as a standalone SVG on the same frame as `map_svg`'s (to draw it once, as a background)."""
    frame = map_frame(width, height, extent, aspect)
    return (f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f'{_outline_element(rings, frame)}</svg>')


def _outline_element(rings: list[np.ndarray], frame: Frame) -> str:
    return (f'<path class="outline" d="{outline_path(rings, frame)}" fill="{OUTLINE_FILL}" stroke="{OUTLINE_STROKE}" '
            f'stroke-width="0.6" fill-rule="evenodd"/>')


def outline_data_uri(rings: list[np.ndarray], **frame) -> str:
    """`outline_svg` as a data: URI for a CSS background (no request leaves the page)."""
    from urllib.parse import quote

    return "data:image/svg+xml," + quote(outline_svg(rings, **frame), safe=" =:,;/")


def map_svg(rings: list[np.ndarray], lon: np.ndarray, lat: np.ndarray, area: np.ndarray, colours: list[str],
            labels: list[str], order: list[int], bold: set[int], muted: set[int], *, title: str = "",
            width: int = 460, height: int = 340, extent: tuple[float, float, float, float] = (73.0, 136.0, 17.0, 54.0),
            aspect: float = 1.2, outline: bool = True, hover: Sequence[str] | None = None) -> str:
    """The cities on China's outline as an ``<svg class="map">`` string.

    `rings`: the outline's lon/lat rings, drawn as one path (projected once and
    cached, see :func:`outline_path`). One circle per city, area `area` px²
    (the caller scales it), colour `colours[j]`, see-through if in `muted`;
    larger circles are drawn first so that small ones stay visible. Labels
    (`labels[j]`, bold for `bold`, grey for `muted`) are placed by
    :func:`place_labels` going through `order` (leaders first): none overlaps
    another and those without room are left off. Circles and labels carry
    ``data-index="j"``; a circle's ``<title>`` is `hover[j]` (its numbers), else its label.
    With `outline=False` the outline is left out: a page that redraws the map
    every month draws it once instead, behind the SVG (`outline_data_uri`).
    """
    layout = map_layout(lon, lat, area, labels, order, bold, title=title, width=width, height=height,
                        extent=extent, aspect=aspect)
    out = [(f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="map" '
           f'role="img" font-family="sans-serif">'),
           f"<title>{_esc(title or 'Map of the cities')}</title>"]
    if outline:
        out.append(_outline_element(rings, layout.frame))
    if title:
        out.append(f'<text x="4" y="16" font-size="{TITLE_SIZE}" font-weight="bold">{_esc(title)}</text>')
    circles = ['<g class="cities" stroke="#000" stroke-width="0.6">']
    for j in np.argsort(-layout.r, kind="stable").tolist():  # largest first: small circles stay on top
        if not (np.isfinite(layout.x[j]) and np.isfinite(layout.y[j])):
            continue
        fade = f' fill-opacity="{MUTED_FILL_OPACITY}"' if j in muted else ""
        circles.append(f'<circle data-index="{j}" cx="{_f(layout.x[j])}" cy="{_f(layout.y[j])}" r="{_f(layout.r[j])}" '
                       f'fill="{_esc(colours[j])}"{fade}><title>{_esc(hover[j] if hover else labels[j])}</title></circle>')
    circles.append("</g>")
    out.extend(circles)
    # Labels with a white halo so they read over the outline and the circles.
    texts = [(f'<g class="labels" font-size="{LABEL_SIZE}" stroke="#fff" stroke-width="2.5" stroke-linejoin="round" '
             f'paint-order="stroke">')]
    for j, box in enumerate(layout.boxes):
        if box is None:
            continue
        style = (' font-weight="bold"' if j in bold else "") + (f' fill="{MUTED_TEXT}"' if j in muted else "")
        # Anchor the text on the box's side that touches the circle: the width is an overestimate,
        # and the slack should fall away from the city, not between the city and its name.
        if box[0] >= layout.x[j]:
            x, anchor = box[0] + 1, ""
        elif box[2] <= layout.x[j]:
            x, anchor = box[2] - 1, ' text-anchor="end"'
        else:
            x, anchor = (box[0] + box[2]) / 2, ' text-anchor="middle"'
        texts.append(f'<text class="city-label" data-index="{j}" x="{_f(x)}" '
                     f'y="{_f(box[1] + BASELINE * LABEL_SIZE)}"{anchor}{style}>{_esc(labels[j])}</text>')
    texts.append("</g>")
    out.extend(texts)
    out.append(f'<text class="caption" x="4" y="{height - 4}" font-size="{CAPTION_SIZE}" fill="#666">'
               f"{_esc(MAP_CAPTION)}</text></svg>")
    return "".join(out)
