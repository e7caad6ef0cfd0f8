"""`make gradescope`: build dist/gradescope-autograder.zip, the file to upload as a Gradescope autograder.

At the zip's root: setup.sh and run_autograder (Gradescope's two required files) and the kata the
autograder grades with: grader/, tests/, solutions/, exercises/, data/mnist, requirements.txt,
pyproject.toml, Makefile, README.md (caches and .grade/ left out). Gradescope unpacks it into
/autograder/source. run_autograder carries the options given here (milestones off by default: they
need minutes and more than the platform's 768 MB). The MNIST files always ship: the training exercise's
tests use a subset of them.
"""

from __future__ import annotations

import argparse
import json
import shlex
import stat
import sys
import zipfile
from pathlib import Path

from grader.core.manifest import ROOT
from grader.core import integrity

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = ROOT / "dist" / "gradescope-autograder.zip"
TREES = ("grader", "tests", "solutions", "exercises")
FILES = ("requirements.txt", "pyproject.toml", "Makefile", "README.md")


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # a fixed date: the same kata, the same zip
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


def build(out: Path = DEFAULT_OUT, *, milestones: str = "off") -> Path:
    options = ["--milestones", milestones]  # the memory per process: autograde.py's default, for 768 MB
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        _add(archive, "setup.sh", (HERE / "setup.sh").read_bytes(), True)
        run_autograder = (HERE / "run_autograder").read_text().replace("@OPTIONS@", shlex.join(options))
        _add(archive, "run_autograder", run_autograder.encode(), True)
        files = integrity.tree_files(ROOT, TREES + ("data/mnist",), FILES)
        for relative in files:
            path = ROOT / relative
            _add(archive, relative.as_posix(), path.read_bytes(), bool(path.stat().st_mode & 0o111))
        record = integrity.record(ROOT, {p.as_posix() for p in files})  # what the unpacked copy checks against
        _add(archive, integrity.RECORD.as_posix(), json.dumps(record, indent=1).encode(), False)
    temporary.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make gradescope", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--milestones", choices=("off", "quick", "full"), default="off")
    args = parser.parse_args(argv)
    out = build(Path(args.out).resolve(), milestones=args.milestones)
    size = out.stat().st_size / 2**20
    print(f"Wrote {out} ({size:.1f} MB, milestones {args.milestones}). Upload it in Gradescope: the assignment's "
          "Configure Autograder page, Zip file upload (see README, Course platforms).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
