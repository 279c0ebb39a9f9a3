"""`.venv/bin/drama robust [options]`: robust decisions across what the facts leave open
(experiments/analysis/robust.py)."""

import sys

from experiments.analysis.robust import main

if __name__ == "__main__":
    main(sys.argv[1:])
