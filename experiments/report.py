"""`.venv/bin/drama report <sweep folder> [--points 0,12]`: a sweep's report (experiments/analysis/report.py)."""

from experiments.analysis.report import main

if __name__ == "__main__":
    main()
