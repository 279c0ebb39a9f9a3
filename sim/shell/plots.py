"""Figures written with each run (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.shell.atomic import save_figure  # noqa: E402
import pandas as pd  # noqa: E402


def plot_shares(table: pd.DataFrame, path: Path, threshold: float, title: str = "") -> Path:
    """Production share by city over time (monthly, and trailing 12 months dashed), capital threshold as a line."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for i, (city, rows) in enumerate(table.groupby("city", sort=False)):
        color = f"C{i % 10}"
        ax.plot(rows["date"], rows["share"], color=color, lw=1.0, alpha=0.45)
        ax.plot(rows["date"], rows["trailing_share"], color=color, lw=2.0, label=city)
    ax.axhline(threshold, color="black", ls="--", lw=1.0, label=f"capital threshold {threshold:g}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of productions (thin: month, thick: trailing 12 months)")
    ax.set_title(title or "Production share by city")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path
