"""Optimisation: the cheapest policy that reaches a chance of becoming the capital (Optuna), with its out-of-sample check."""
