"""What every view of the page shares: one colour per city and one date format."""

from __future__ import annotations

from sim.model import ContestModel

# Tableau's 20 categorical colours (matplotlib's tab20): 15 cities stay apart. Strong and light tones alternate.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5"]


def city_colours(n: int) -> list[str]:
    """One categorical colour per city, the same on the map, in the charts and in the legend."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def month_label(model: ContestModel, step: int) -> str:
    """Step t (1 = the first month) as its date, "2026-03", the one date format of the page."""
    year, month = model.year_month(step - 1)
    return f"{year}-{month:02d}"
