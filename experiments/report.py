"""`.venv/bin/drama report <sweep folder> [--points 0,12]`: a sweep's report (experiments/analysis/report.py)."""

from experiments.analysis.report import main


def help_page() -> str:
    """`.venv/bin/drama report --help`."""
    from sim.shell.help import Help

    return Help(
        "report",
        "Write the report of a finished sweep into its folder (report/): for each policy point, the chance each "
        "city ends as the capital with its interval, months to the capital, the treasury's outlay per job and per "
        "added job, fan charts over the seeds, which levers matter (sensitivity) and the policy region where a "
        "city wins (PRIM), as report.md with its tables (CSV) and figures (PNG).",
        usage="<sweep folder> [--points 0,12]",
        options=[("<sweep folder>", "a sweep's folder, as `drama sweep` printed it (results/sweeps/<date>/<time>_<name>)"),
                 ("--points 0,12", "the design points drawn as fan charts (default: the first, the last and each "
                                   "city's best)")],
        examples=["results/sweeps/2026-12-06/10-00-00-000000_smoke", "results/sweeps/<date>/<time>_smoke --points 0,3",
                  "\"$(ls -d results/sweeps/*/*_smoke | tail -1)\"   # the newest smoke sweep"],
    ).text()


if __name__ == "__main__":
    main()
