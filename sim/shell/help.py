"""Each command's `--help`: what it does, the overrides a planner uses with their allowed values, what it can run,
and three examples; in the planner's words, not Hydra's stock help (which stays behind `--hydra-help`).

The allowed ranges are read from the parameters' own specs (sim/params.py) and the lists of scenarios and
experiments from configs/, so the help cannot drift from what the command accepts.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sim.shell.config import CONFIG_DIR

PROGRAM = ".venv/bin/drama"
HELP_FLAGS = ("-h", "--help")
WIDTH = 100


def wants_help(argv: Sequence[str]) -> bool:
    """Whether the command line asks for the command's help."""
    return any(a in HELP_FLAGS for a in argv)


@dataclass(frozen=True)
class Help:
    """A command's help page."""

    command: str  # "run": shown as .venv/bin/drama run
    does: str  # what it does, a short paragraph
    usage: str = "[overrides ...]"
    options: Sequence[tuple[str, str]] = ()  # (what to type, what it means and what is allowed)
    lists: Sequence[tuple[str, Callable[[], list[tuple[str, str]]]]] = ()  # (title, [(name, one line)]), read late
    examples: Sequence[str] = ()  # command lines after the program and command name
    notes: Sequence[str] = field(default_factory=tuple)

    def text(self) -> str:
        name = f"{PROGRAM} {self.command}"
        out = [f"usage: {name} {self.usage}", "", *textwrap.wrap(self.does, WIDTH)]
        if self.options:
            out += ["", "common overrides:"]
            width = min(max(len(o) for o, _ in self.options), 44)
            for option, meaning in self.options:
                lines = textwrap.wrap(meaning, WIDTH - width - 4)
                first = f"  {option:<{width}}  {lines[0] if lines else ''}"
                out.append(first if len(option) <= width else f"  {option}\n  {'':<{width}}  {lines[0]}")
                out += [f"  {'':<{width}}  {line}" for line in lines[1:]]
        for title, entries in self.lists:
            rows = entries()
            out += ["", f"{title}:"]
            width = max((len(n) for n, _ in rows), default=0)
            for n, line in rows:
                wrapped = textwrap.wrap(line, WIDTH - width - 4) or [""]
                out.append(f"  {n:<{width}}  {wrapped[0]}")
                out += [f"  {'':<{width}}  {more}" for more in wrapped[1:]]
        if self.examples:
            out += ["", "examples:"] + [f"  {name} {e}" for e in self.examples]
        for note in self.notes:
            out += ["", *textwrap.wrap(note, WIDTH)]
        return "\n".join(out)


def allowed(cls, name: str, unit: str | None = None) -> str:
    """'0 to 1' style range of a parameter, from its spec's metadata (with its unit), e.g. for RunParams.steps."""
    meta = {f.name: f for f in dataclasses.fields(cls)}[name].metadata
    lo, hi = meta.get("lo"), meta.get("hi")
    unit = unit if unit is not None else meta.get("unit", "")
    if lo is None or hi is None:
        return ""
    return f"{_number(lo)} to {_number(hi)}{(' ' + unit) if unit else ''}"


def _number(value: float) -> str:
    """A range end without float noise or scientific notation: 1e11 is '100 B', 0.5 is '0.5'."""
    if isinstance(value, (int, float)) and abs(value) >= 1e9 and float(value).is_integer():
        return f"{value / 1e9:g} B"
    if isinstance(value, (int, float)) and abs(value) >= 1e6 and float(value).is_integer():
        return f"{value / 1e6:g} M"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _described(folder: str, key: str = "description") -> list[tuple[str, str]]:
    """(name, one line) for each config of a group: its `description`, else the first sentence of its '# Question:'."""
    out = []
    for path in sorted((CONFIG_DIR / folder).glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        found = re.search(rf"^{key}:\s*(.+)$", text, flags=re.M)
        if found:
            line = found.group(1).strip()
        else:
            question = re.search(r"^# Question:(.*?)(?:\n(?!#)|\n#\s*\n)", text, flags=re.M | re.S)
            line = " ".join(l.lstrip("#").strip() for l in question.group(1).splitlines()) if question else ""
            line = line.split("? ")[0] + ("?" if "?" in line else "")
        # without the source references: docs/sources.md's entries ('(S5)', '(S2, S7)'), the older '(seed ...)'
        line = re.sub(r"\s*\((seeds? [^)]*|S\d+(\s*(,|/|and)\s*S\d+)*|MODEL-BRIEF)\)", "", line).strip()
        out.append((path.stem, line[:1].upper() + line[1:]))
    return out


def scenarios() -> list[tuple[str, str]]:
    """Every scenario with its one-line description (configs/scenario/)."""
    return _described("scenario")


def experiments() -> list[tuple[str, str]]:
    """Every named experiment with the question it asks (configs/experiment/)."""
    return _described("experiment")


def scenario_table(default: str = "xian_vs_zhengzhou") -> str:
    """The README's table of scenarios, from configs/ (tests/test_docs.py checks the README holds it)."""
    rows = [f"| `{name}`{' (default)' if name == default else ''} | {line} |" for name, line in scenarios()]
    return "\n".join(["| scenario | what it is |", "|---|---|", *rows])


def experiment_table() -> str:
    """The README's table of named experiments, from configs/ (tests/test_docs.py checks the README holds it)."""
    rows = [f"| `{name}` | {line} |" for name, line in experiments()]
    return "\n".join(["| experiment | its question |", "|---|---|", *rows])
