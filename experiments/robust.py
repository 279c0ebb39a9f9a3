"""`.venv/bin/drama robust [options]`: robust decisions across what the facts leave open
(experiments/analysis/robust.py)."""

import sys

from experiments.analysis.robust import main


def help_page() -> str:
    """`.venv/bin/drama robust --help`."""
    from sim.shell.help import Help

    return Help(
        "robust",
        "Rank Zhengzhou's candidate policies by how they hold up over the futures the facts leave open: each "
        "policy is run against Xi'an fixed, reactive and imitating, over sampled market, behaviour and starting "
        "sizes (from the posterior where given) and seeds; it reports each policy's worst case and regret, and "
        "the region of futures where a policy fails (PRIM), in robust.md and its tables.",
        usage="[key=value ...]",
        options=[("scenarios=<n>", "futures sampled (default 24)"),
                 ("seeds=<n>", "seeds per future and policy (default 5)"),
                 ("min_share=<x>", "the share Zhengzhou must reach for a policy to pass, 0 to 1 (default 0.12)"),
                 ("max_outlay=<yuan>", "the most it may spend over the run (default 100e6)"),
                 ("posterior=<name>", "draw the futures' parameter sets from that published posterior"),
                 ("front=<folder>", "add the policies of an optimisation's front (a `drama optimize` folder)"),
                 ("out=<folder>", "where to write (default results/robust/zhengzhou)"),
                 ("progress=false", "no progress bar")],
        examples=["scenarios=8 seeds=2", "posterior=national", "front=results/optimize/mine out=results/robust/mine"],
    ).text()


if __name__ == "__main__":
    main(sys.argv[1:])
