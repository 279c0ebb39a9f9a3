"""The named study is rendered from the files its commands wrote, and every figure it shows is there."""

import re

from experiments import study
from experiments.cli import shown as command_text


def test_the_study_document_is_rendered_from_its_data():
    committed = (study.DOCS / f"{study.NAME}.md").read_text()
    assert committed == study.render(), "docs/studies is stale: rerun .venv/bin/drama study --render publish=true"


def test_every_figure_of_the_study_is_a_committed_png():
    text = (study.DOCS / f"{study.NAME}.md").read_text()
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(images) >= 7  # the grid's four, Morris, the two optimisations (and PRIM's when it finds a box)
    for name in images:
        assert (study.DOCS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_the_study_names_the_commands_that_make_it():
    text = (study.DOCS / f"{study.NAME}.md").read_text()
    for args in study.COMMANDS:  # as a newcomer types them: .venv/bin/drama <command> ...
        assert command_text(args[0], args[1:]) in text
