"""Calibration: the published facts and their measures, the point search (Optuna), the posterior (pyabc ABC-SMC) and docs/calibration.md."""
