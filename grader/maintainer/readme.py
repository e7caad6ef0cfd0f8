"""Generate the README's exercise map and milestone list from grader/manifest.toml.

The tables live in README.md between marker comments; everything else in the README is written by hand.
`make readme` (python -m grader.maintainer.readme, part of `make generate`) rewrites them; `make doctor` and
tests/grader/test_readme.py say when they are out of date.
"""

from __future__ import annotations

import argparse
import sys

from grader.core import manifest
from grader.core.manifest import ROOT

README = ROOT / "README.md"


def _begin(name: str) -> str:
    return f"<!-- {name}: generated from grader/manifest.toml by `make readme`; do not edit by hand -->"


def _end(name: str) -> str:
    return f"<!-- /{name} -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def exercise_map(kata: manifest.Manifest) -> str:
    lines = ["| # | Exercise (`EX=`) | What you build | The mathematics | Points | Builds on |",
             "|---|---|---|---|---|---|"]
    for ex in kata.exercises:
        name = f"`{ex.name}`" + (" (stretch)" if ex.stretch else "")
        needs = ", ".join(ex.needs) if ex.needs else "-"
        lines.append(f"| {ex.number} | {name} | {_cell(ex.title)} | {_cell(ex.teaches)} | {ex.points:g} | {needs} |")
    core = sum(ex.points for ex in kata.exercises if not ex.stretch)
    total = sum(ex.points for ex in kata.exercises)
    lines += ["", f"Core exercises: {core:g} points; with the stretch exercises: {total:g} points."]
    return "\n".join(lines)


def milestone_list(kata: manifest.Manifest) -> str:
    lines = ["| Milestone | Goal | Unlocked when these pass |", "|---|---|---|"]
    for ms in kata.milestones:
        name = f"`{ms.name}`" + (" (stretch)" if ms.stretch else "")
        lines.append(f"| {name} | {_cell(ms.title)} | {', '.join(ms.needs)} |")
    return "\n".join(lines)


BLOCKS = {"exercise-map": exercise_map, "milestones": milestone_list}


def update(text: str, kata: manifest.Manifest | None = None) -> str:
    """The README text with every generated block replaced; raises ValueError if a marker is missing."""
    kata = kata or manifest.load()
    for name, render in BLOCKS.items():
        begin, end = _begin(name), _end(name)
        if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
            raise ValueError(f"README.md needs exactly one pair of markers:\n{begin}\n{end}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{render(kata)}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    text = README.read_text()
    try:
        fresh = update(text)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if fresh != text:
        README.write_text(fresh)
        print("updated the generated parts of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
