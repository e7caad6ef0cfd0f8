"""Dynamic code is a policy matter (grader/core/policy.py).

Every indirect way to import or run code that the issue listed, and a few more, is found in the exercise file
or in a helper it reaches at any depth, with its file and line; the reference and the stubs trigger nothing.
Hostile submissions (tests/grader/redteam/dynamic_*.py) graded by `make grade-all` earn nothing beside an
honest row that keeps its points.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from grader.core import policy
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR
from grader.instructor import gradebook

pytestmark = pytest.mark.timeout(900)
REDTEAM = Path(__file__).parent / "redteam"


# ---------------------------------------------------------------- the policy

INDIRECT_IMPORTS = {  # the six forms the issue found unseen, and a few more of the same kind
    "concatenation": ('m = __import__("tor" + "ch")', "uses __import__"),
    "join": ('m = __import__("".join(["to", "rch"]))', "builds the name 'torch'"),
    "getattr of builtins": ('import builtins\nm = getattr(builtins, "__imp" + "ort__")("torch")', "imports builtins"),
    "exec": ('exec("import torch")', "uses exec"),
    "sys.modules": ('import sys\nm = sys.modules["torch"]', "uses sys.modules"),
    "import_module by an alias": ("from importlib import import_module as load\nm = load('torch')",
                                  "imports importlib"),
    "eval": ('m = eval("1")', "uses eval"),
    "compile": ('c = compile("1", "f", "eval")', "uses compile"),
    "__builtins__": ('m = __builtins__["__import__"]', "uses __builtins__"),
    "a frame's globals": ("import inspect\ng = inspect.currentframe().f_globals", "uses inspect.currentframe().f_globals"),
    "subclasses": ("classes = ().__class__.__base__.__subclasses__()", "__subclasses__"),
    "a module's attribute by a computed name": ("import numpy as np\nname = 'sys'\nm = getattr(np, name)",
                                                "uses getattr on the module np"),
    "a reversed string": ('name = "hcrot"[::-1]', "builds the name 'torch'"),
    "a pickle": ("import numpy as np\nw = np.load('w.npy', allow_pickle=True)", "loads a pickle"),
    "another program": ("import os\nos.system('python -c \"import torch\"')", "uses os.system"),
    "a package outside the standard library": ("import scipy", "imports scipy (neither NumPy"),
}


@pytest.mark.parametrize("form", sorted(INDIRECT_IMPORTS))
def test_every_indirect_import_is_a_finding_that_names_its_line(form):
    code, words = INDIRECT_IMPORTS[form]
    source = "import numpy as np\n\n\ndef forward(x):\n    return x\n\n\n" + code + "\n"
    found = policy.findings(source, "layers.py")
    assert found and all(f.startswith("layers.py line ") for f in found), found
    assert any(words in f for f in found), (words, found)
    first_line = source.count("\n", 0, source.index(code)) + 1
    assert min(int(f.split()[2].rstrip(":")) for f in found) >= first_line, found


def test_the_reference_and_the_stubs_trigger_nothing():
    for folder in (SOLUTIONS_DIR, EXERCISES_DIR):
        for module in sorted(folder.glob("*.py")):
            assert policy.findings(module.read_text(), module.name) == [], module


def test_honest_code_that_merely_resembles_dynamic_code_is_left_alone():
    source = textwrap.dedent('''
        import numpy as np
        from . import init as initializers
        import re, time
        def build(name, layer):
            layer.eval()
            mode = "eval"
            draw = getattr(initializers, name)
            weights = {k: v for k, v in vars(layer).items()}
            pattern = re.compile("x")
            return np.load("w.npy", allow_pickle=False), getattr(np, "tanh"), time.perf_counter()
        ''')
    assert policy.findings(source, "layers.py") == []


def test_helpers_are_followed_at_any_depth_but_not_into_other_exercises(tmp_path):
    (tmp_path / "layers.py").write_text("from .first import f\n")
    (tmp_path / "first.py").write_text("from .second import g\nfrom .activations import ReLU\n")
    (tmp_path / "second.py").write_text("from . import third\n")
    (tmp_path / "third.py").write_text("import numpy as np\n\n\ndef h():\n    return eval('1')\n")
    (tmp_path / "activations.py").write_text("exec('')\n")
    found = policy.violations(tmp_path / "layers.py", frozenset({"layers", "activations"}))
    assert found == ["third.py line 5: uses eval (dynamic code)"], found


# ---------------------------------------------------------------- red team: each route beside an honest row

DYNAMIC_ROUTES = sorted(p.stem for p in REDTEAM.glob("dynamic_*.py"))
HELPERS = {"_kata_util.py": "from ._kata_deep import run\n\n\ndef tidy():\n    return run()\n",
           "_kata_deep.py": "def run():\n    return eval('1 + 1')\n"}


@pytest.fixture(scope="module")
def routes_graded(tmp_path_factory):
    from test_redteam import LIMITS, submission

    folder, out = tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("gradebook")
    shutil.copytree(SOLUTIONS_DIR, folder / "a_honest", ignore=shutil.ignore_patterns("__pycache__"))
    for name in DYNAMIC_ROUTES:
        own = submission(folder, name, SOLUTIONS_DIR, (REDTEAM / f"{name}.py").read_text())
        for helper, text in HELPERS.items():
            (own / helper).write_text(text)
    rows = gradebook.grade_all(folder, out, LIMITS, only="layers", say=lambda message: None)
    return {row.name: row for row in rows}, json.loads((out / "similarity.json").read_text())


@pytest.mark.nightly
@pytest.mark.slow
def test_the_honest_row_keeps_its_points_beside_the_dynamic_routes(routes_graded):
    row = routes_graded[0]["a_honest"]
    assert row.score == row.max_score == 10, row.problems


@pytest.mark.nightly
@pytest.mark.slow
@pytest.mark.parametrize("route", DYNAMIC_ROUTES)
def test_each_dynamic_route_passes_its_tests_yet_earns_nothing_and_is_listed(routes_graded, route):
    rows, found = routes_graded
    row = rows[route]
    layers = row.report["exercises"][0]
    assert row.score == 0 and layers["status"] == "forbidden import", (row.score, row.problems)
    assert layers["passed"] == layers["total"] > 0, "the code is correct: only the policy takes its points"
    assert any("dynamic code" in p and " line " in p for p in row.problems), row.problems
    listed = [entry for entry in found["dynamic"] if entry["submission"] == route]
    assert listed and any(" line " in f for f in listed[0]["findings"]), found["dynamic"]
    assert any("dynamic code" in phrase for phrase in row.similar), row.similar
