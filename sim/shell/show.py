"""Numbers as a planner reads them on the console: money in M or B yuan, shares in percent, counts with thousands
separators, never scientific notation and never "-0"."""

from __future__ import annotations

import dataclasses
import math


def whole(value: float, signed: bool = False) -> str:
    """A count: '12,345', '+178' with signed=True; a value that rounds to 0 is '0' (no '-0')."""
    rounded = round(float(value))
    if rounded == 0:
        return "0"
    return f"{rounded:+,d}" if signed else f"{rounded:,d}"


def money(yuan: float, per: str = "") -> str:
    """'116.1 M yuan', '1.38 B yuan', '950,000 yuan' (with '/yr' or another `per` appended)."""
    v = float(yuan)
    if not math.isfinite(v):
        return "-"
    if abs(v) >= 1e9:
        text = f"{v / 1e9:,.2f} B yuan"
    elif abs(v) >= 1e6:
        text = f"{v / 1e6:,.1f} M yuan"
    else:
        text = f"{whole(v)} yuan"
    return text + per


def amount(value: float, unit: str = "") -> str:
    """A value in its unit as the params' specs name them: yuan amounts as money, shares in percent, other numbers
    with at most 4 significant digits and no exponent."""
    v = float(value)
    if not math.isfinite(v):
        return "-"
    if unit.startswith("yuan"):
        return money(v, unit[len("yuan"):])
    if unit.startswith("share"):
        return f"{100 * v:.3g} %"
    if abs(v) >= 1000:
        return f"{v:,.0f}" + (f" {unit}" if unit else "")
    return f"{v:.4g}" + (f" {unit}" if unit else "")


def lever(key: str, value: float) -> str:
    """A policy lever's value by its dotted key: 'scenario.cities.x.policy.annual_budget' 1.161e8 is '116.1 M yuan/yr'."""
    from sim.params import PolicyParams

    fields = {f.name: f for f in dataclasses.fields(PolicyParams)}
    field = fields.get(key.rsplit(".", 1)[-1])
    return amount(value, field.metadata.get("unit", "") if field is not None else "")
