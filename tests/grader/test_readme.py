"""The README's exercise map and milestone list are generated from the manifest and must be in sync."""

import pytest

from grader.core import manifest
from grader.maintainer import readme


def test_the_readme_tables_match_the_manifest():
    text = readme.README.read_text()
    assert readme.update(text) == text, "README.md is out of date with grader/manifest.toml: run `make readme`."


def test_every_exercise_and_milestone_appears_with_what_it_teaches():
    text = readme.README.read_text()
    kata = manifest.load()
    for ex in kata.exercises:
        assert f"`{ex.name}`" in text and readme._cell(ex.teaches) in text
    for ms in kata.milestones:
        assert f"`{ms.name}`" in text


def test_update_replaces_only_the_generated_blocks():
    kata = manifest.load()
    text = ("intro\n" + "".join(f"{readme._begin(n)}\nstale\n{readme._end(n)}\nbetween\n" for n in readme.BLOCKS))
    fresh = readme.update(text, kata)
    assert "stale" not in fresh and fresh.startswith("intro\n") and fresh.count("between") == len(readme.BLOCKS)
    assert readme.update(fresh, kata) == fresh


def test_a_readme_without_markers_is_an_error():
    with pytest.raises(ValueError, match="markers"):
        readme.update("no markers here")


def test_the_readme_mentions_every_make_target_it_documents_and_nothing_else():
    text = readme.README.read_text()
    makefile = (readme.ROOT / "Makefile").read_text()
    import re

    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    mentioned = set(re.findall(r"`make ([a-z][a-z-]*)", text))
    assert mentioned <= targets, f"the README mentions make targets that do not exist: {mentioned - targets}"
