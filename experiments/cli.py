"""`drama`: every command of the project behind one name, from a plain shell in the project folder.

`make run` (or `make test`) sets the project up; from then on each command
is `.venv/bin/drama <command> [overrides]`, with no environment to activate
and no other interpreter to get wrong:

    .venv/bin/drama run scenario=national steps=24
    .venv/bin/drama sweep experiment=smoke
    .venv/bin/drama report results/sweeps/<folder>

Each command is the module it names run as a script (`runpy`, as
`python -m` would), so its own arguments, help and exit code are unchanged.
"""

from __future__ import annotations

import runpy
import sys

PROGRAM = ".venv/bin/drama"
# command -> (module run as __main__, what it does in one line)
COMMANDS = {
    "run": ("sim", "run one scenario and write its city table, summary and figure (default: xian_vs_zhengzhou, "
                   "60 months from 2024-01)"),
    "sweep": ("experiments.sweep", "run a named experiment: policies over a grid or a sample, each over many seeds; "
                                   "resumes after a stop"),
    "report": ("experiments.report", "write the report of a sweep folder: who becomes the capital, with what odds, "
                                     "at what cost per job"),
    "calibrate": ("experiments.calibrate", "fit the model's behaviour to the sources' facts (a best fit, or a "
                                           "posterior with method=posterior)"),
    "optimize": ("experiments.optimize", "search the cheapest policy that wins the contest, and check it on fresh "
                                         "seeds"),
    "game": ("experiments.game", "play the subsidy game: every city answers with its best policy; where it settles, "
                                 "and whether the war leaves all worse off"),
    "robust": ("experiments.robust", "rank policies by how they hold up over the futures the facts leave open"),
    "study": ("experiments.study", "regenerate the Zhengzhou-against-Xi'an study (docs/studies/zhengzhou_vs_xian.md)"),
    "planner": ("experiments.planner", "print the planner's table: Zhengzhou's reward and fund over 20 seeds"),
    "lockin": ("experiments.lockin", "find where clustering tips two identical cities to one winner"),
    "magnitudes": ("experiments.magnitudes", "set the model's orders of magnitude beside the sources' "
                                             "(docs/ODD.md 7.18)"),
}
EXAMPLES = [
    f"{PROGRAM} run scenario=national steps=120",
    f"{PROGRAM} run scenario.cities.zhengzhou.policy.reward_rate=0.2 seed=7",
    f"{PROGRAM} sweep experiment=smoke",
]


def shown(module: str, args: list[str] | tuple[str, ...] = ()) -> str:
    """How the page, the docs and the error messages write a command: `shown("experiments.sweep", ["experiment=smoke"])`
    is '.venv/bin/drama sweep experiment=smoke'."""
    name = next(n for n, (m, _) in COMMANDS.items() if m == module)
    return " ".join([PROGRAM, name, *args])


def usage() -> str:
    """What `drama` alone or `drama --help` prints: the commands, one line each, and examples."""
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROGRAM} <command> [overrides ...]   (from the project folder, after `make run`)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", f"{PROGRAM} <command> --help says what a command takes, with examples. For example:"]
    lines += [f"  {example}" for example in EXAMPLES]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        import difflib

        near = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        print(f"error: {PROGRAM}: no command {name!r}{hint}; allowed: {', '.join(COMMANDS)}", file=sys.stderr)
        raise SystemExit(2)
    module = COMMANDS[name][0]
    if any(a in ("-h", "--help") for a in rest):  # every command's own page (sim/shell/help.py)
        import importlib

        page = {"sim": "sim.__main__", "experiments.game": "experiments.game.__main__"}.get(module, module)
        print(importlib.import_module(page).help_page())
        return
    sys.argv = [f"{PROGRAM} {name}", *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
