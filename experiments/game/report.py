"""The game's outputs: game.json, trace.csv, convergence.png and report.md, in the format of the sweep report.

`render` writes the report from game.json alone, so the study document can
quote a game folder without running it again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.shell.atomic import save_figure, write_csv, write_json, write_text
from sim.shell.show import lever, money, whole

PROFILES = ("equilibrium", "announced", "disarmament")
STATUS = {"equilibrium": "settles at an equilibrium", "cycle": "does not settle: it cycles",
          "unsettled": "does not settle within its rounds"}


def write(folder: Path, record: dict) -> None:
    """Every output of a game into its folder."""
    folder = Path(folder)
    write_json(folder / "game.json", record)
    write_csv(trace_table(record), folder / "trace.csv")
    plot_trace(record, folder / "convergence.png")
    write_text(folder / "report.md", render(record))


def trace_table(record: dict) -> pd.DataFrame:
    """One row per best response and lever: the policy before, the best response, the policy after, the gain."""
    rows = []
    for step, row in enumerate(record["trace"]):
        for key, value in row["best_response"].items():
            rows.append({"step": step, "round": row["round"], "player": row["player"], "lever": key.rsplit(".", 1)[-1],
                         "before": row["before"][key], "best_response": value, "after": row["after"][key],
                         "gain": row["gain"], "gain_se": row["gain_se"], "moved": row["moved"]})
    return pd.DataFrame(rows)


def plot_trace(record: dict, path: Path) -> None:
    """Each lever's value after every best response, one panel per lever name, a line per player."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = trace_table(record)
    names = list(dict.fromkeys(table.lever)) if len(table) else []
    fig, axes = plt.subplots(len(names) or 1, 1, figsize=(6.4, 2.4 * max(len(names), 1) + 0.6), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        part = table[table.lever == name]
        scale, unit = (1e6, " (M yuan/yr)") if name == "annual_budget" else (1.0, "")
        for k, (player, rows) in enumerate(part.groupby("player", sort=False)):
            start = rows.before.iloc[0] / scale
            ax.step([-1, *rows.step], [start, *(rows.after / scale)], where="post", color=f"C{k}", label=player)
            ax.scatter(rows.step, rows.best_response / scale, s=14, color=f"C{k}", marker="x",
                       label=f"{player}'s best response")
        ax.set_ylabel(name.replace("_", " ") + unit, fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="best")
    axes[-1, 0].set_xlabel("best response number (players answer in turn, round by round)")
    fig.suptitle(f"{record['scenario']}: the game {STATUS[record['status']]}", fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)


def at_bounds(record: dict) -> dict[str, list[str]]:
    """Per player, the levers its final policy holds within the game's tolerance of a bound: 'reward_rate (top)'."""
    tol = record["settings"]["tolerance"]
    out: dict[str, list[str]] = {}
    for p in record["players"]:
        for key, (low, high) in record["levers"][p].items():
            value = record["profiles"]["equilibrium"][p][key]
            side = "top" if value >= high - tol * (high - low) else "bottom" if value <= low + tol * (high - low) else ""
            if side:
                out.setdefault(p, []).append(f"{key.rsplit('.', 1)[-1]} ({side})")
    return out


def settled_label(record: dict) -> str:
    """What the game's final profile is called in a table: the equilibrium only when it is one."""
    return {"equilibrium": "equilibrium", "cycle": "end of the cycle"}.get(record["status"], "where it stopped")


def settled_phrase(record: dict) -> str:
    """The same in a sentence: 'the equilibrium', 'the policies where it stopped'."""
    return {"equilibrium": "the equilibrium", "cycle": "the policies that ended the cycle"}.get(
        record["status"], "the policies where it stopped")


def _ci(v: dict, show) -> str:
    """'12.3 [11.0 to 13.5]'; money as '5.18 B [5.17 B to 5.19 B] yuan' (the unit once)."""
    texts = [show(v[k]) for k in ("mean", "low", "high")]
    unit = " yuan" if all(x.endswith(" yuan") for x in texts) else ""
    mean, low, high = (x[:len(x) - len(unit)] for x in texts)
    return f"{mean} [{low} to {high}]{unit}"


def _signed_money(x: float) -> str:
    return ("+" if x > 0 else "") + money(x)


def policy_text(profile: dict) -> str:
    return ", ".join(f"{k.rsplit('.', 1)[-1]} {lever(k, v)}" for k, v in profile.items())


def render(record: dict) -> str:
    """The report (markdown) from a game's record."""
    players, out = record["players"], record["outcomes"]
    s = record["settings"]
    lines = [f"# Game report: {' against '.join(players)} in {record['scenario']}", "",
             f"Each player sets {', '.join(sorted({k.rsplit('.', 1)[-1] for p in players for k in record['levers'][p]}))} "
             f"within its bounds to maximise its payoff ({', '.join(f'{p}: `{record['payoff'][p]}`' for p in players)}) "
             f"against the others' policies, in turn, by iterated best response (damping {s['damping']:g}); each "
             f"best response is {s['trials']} optimiser trials scored on {s['replicates']} common seeds, and a move "
             f"is made only when its gain on {s['checks']} fresh seeds of the round exceeds its standard error. "
             f"Scenario `{record['scenario']}`, {record['steps']} months; the equilibrium, the announced policies "
             f"and disarmament are compared on {s['fresh']} further fresh seeds (mean [95 % interval]). "
             f"Regenerate with `{record['command']}`."
             + (f" Each seed drew its parameter set from the posterior `{record['posterior']}`."
                if record.get("posterior") else ""), "", "## Summary", ""]
    lines.append(f"- The game {STATUS[record['status']]} after {record['rounds']} round(s).")
    if record["status"] == "equilibrium":
        for p in players:
            lines.append(f"- {p} settles at {policy_text(record['profiles']['equilibrium'][p])}.")
        holds = record["holds"]
        breaks = [p for p in players if holds[p]["low"] > 0]
        lines.append("- On the fresh seeds " + (
            f"{', '.join(breaks)} would still gain by moving: the equilibrium does not hold there."
            if breaks else "no player gains clearly by moving to its last best response: it holds there."))
    elif record["status"] == "cycle":
        lines.append("- The policies it cycles through, in order: " + "; ".join(
            " / ".join(f"{p}: {policy_text(q[p])}" for p in players) for q in record["cycle"]) + ".")
    else:
        for p in players:
            lines.append(f"- {p} was last at {policy_text(record['profiles']['equilibrium'][p])}.")
    bound = at_bounds(record)
    if bound:
        lines.append("- At a bound of its range (the answer would go further with a wider one): "
                     + "; ".join(f"{p}'s {', '.join(names)}" for p, names in bound.items()) + ".")
    lines.append(f"- Verdict, {settled_phrase(record)} against disarmament (every player's instruments off): "
                 f"{record['verdict']['text']}.")
    d = out["equilibrium"]["vs_disarmament"]
    lines.append(f"- Against disarmament, at {settled_phrase(record)} jobs change by "
                 + ", ".join(f"{_ci(d['jobs'][p], lambda x: whole(x, signed=True))} in {p}" for p in players)
                 + f" and by {_ci(d['jobs']['national'], lambda x: whole(x, signed=True))} in the whole country, "
                 + "for outlays over the run of " + ", ".join(f"{_ci(d['outlay'][p], money)} ({p})" for p in players)
                 + ".")
    lines += ["", f"## At {settled_phrase(record)}, as announced and disarmed", "",
              "| policies | player | payoff | share of output | jobs | outlay over the run |", "|---|---|---|---|---|---|"]
    label = {"equilibrium": settled_label(record), "announced": "announced", "disarmament": "disarmament"}
    for name in PROFILES:
        for p in players:
            v = out[name]
            lines.append(f"| {label[name]} | {p} | {_ci(v['payoff'][p], money)} | "
                         f"{_ci(v['share'][p], lambda x: f'{100 * x:.1f} %')} | {_ci(v['jobs'][p], whole)} | "
                         f"{_ci(v['outlay'][p], money)} |")
        lines.append(f"| {label[name]} | whole country | | | {_ci(out[name]['jobs']['national'], whole)} | |")
    lines += ["", "## What the war does, against disarmament", "",
              "Paired on the same seeds: each quantity at the policies named minus under disarmament.", "",
              "| policies | player | payoff | jobs | outlay |", "|---|---|---|---|---|"]
    for name in ("equilibrium", "announced"):
        d = out[name]["vs_disarmament"]
        for p in players:
            lines.append(f"| {label[name]} | {p} | {_ci(d['payoff'][p], _signed_money)} | "
                         f"{_ci(d['jobs'][p], lambda x: whole(x, signed=True))} | {_ci(d['outlay'][p], _signed_money)} |")
        lines.append(f"| {label[name]} | whole country | | {_ci(d['jobs']['national'], lambda x: whole(x, signed=True))} | |")
    lines += ["", "## Convergence", "", "![convergence](convergence.png)", "",
              "| round | player | best response | payoff gain on the round's fresh seeds | moved |", "|---|---|---|---|---|"]
    for row in record["trace"]:
        lines.append(f"| {row['round']} | {row['player']} | {policy_text(row['best_response'])} | "
                     f"{_signed_money(row['gain'])} (se {money(row['gain_se'])}) | {'yes' if row['moved'] else 'no'} |")
    return "\n".join(lines) + "\n"


def section(record: dict, figure: str) -> list[str]:
    """A game as a study document's section body: its summary, its two tables and its convergence figure (at the
    path `figure`), from the record alone."""
    text = render(record)
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0].strip()
    tables = [part.split("\n", 1) for part in text.split("\n## ")[2:4]]
    lines = [summary, ""]
    for heading, body in tables:
        lines += [f"**{heading}.**", "", body.strip(), ""]
    return [*lines, f"![convergence]({figure})", ""]
