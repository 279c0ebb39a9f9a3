"""The command-line shell around the model core: everything between a user's command line and `sim.model`.

- `cli`: the front door every command goes through (checks, composition, the run folder);
- `config`: the Hydra boundary (schemas from the params, composition, the one conversion to params);
- `folders`: whose folder is this (marks, the one-writer lock, discarding only what a command made);
- `runner`: one run into a folder (tables, summary, figure, manifest), and its printed table;
- `plots`: the run's figure;
- `atomic`: files written whole or not at all.

The core (`sim/*.py` beside this package) never imports the shell: the model runs from Python with no config files.
"""
