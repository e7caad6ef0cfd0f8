"""Which one small edit of the reference reproduces the learner's numbers: a diagnosis for unlisted mistakes.

When a test fails, the judge runs its scenario again on copies of the reference, each edited once inside
its `# <exercise>` markers and only in the functions the scenario called before the learner's first wrong
value, the latest called first. First: an operator, the order of two operands or arguments, an axis, a
keyword, a constant, an index, a call or a sign changed; a term, a factor, a transpose, a call or a statement
left out; `+=` and `=` exchanged; two statements swapped. Then: another value of the function in place of a
value, a value wrapped in abs, sqrt, sign, mean, sorted, astype or a slice, another function of the module,
another number of the exercise. An edit whose run observes every value the learner's run observed (to
rounding), or raises the same error with the same message at the same point and in the same function,
reproduces the mistake. Up to SHOWN such edits are said, all of them, since the numbers cannot tell them
apart; more say nothing, and a near match is never said, so the sentence is true of the numbers however the
learner's code is written. It reads the reference's source; of the learner's, only the syntax around the
line an error was raised on (never run).
"""
from __future__ import annotations

import ast
import copy
import itertools
import types
from dataclasses import dataclass

import numpy as np

from grader.core.stubs import BEGIN, END
from grader.feedback.checks import _plain

MAX_EDITS = 400  # edits tried per failing test, in source order (a deterministic bound, not a time budget)
SEARCH_VAR = "KATA_EDIT_SEARCH"  # "0": no search (a class's grades, the maintainer's suite: seconds per failure)
SHOWN = 3  # at most this many reproducing edits are said; more say nothing

VERBS = {ast.Add: "added", ast.Sub: "subtracted", ast.Mult: "multiplied", ast.Div: "divided",
         ast.FloorDiv: "divided as integers", ast.MatMult: "a matrix product", ast.Pow: "raised to a power"}
SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.MatMult: "@",
           ast.Pow: "**", ast.Mod: "%", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
OPERATORS = {ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add, ast.Div], ast.Mult: [ast.Div, ast.Add],
             ast.Div: [ast.Mult, ast.FloorDiv, ast.Sub], ast.MatMult: [ast.Mult], ast.Pow: [ast.Mult],
             ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt],
             ast.GtE: [ast.Gt, ast.LtE], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq],
             ast.Is: [ast.IsNot], ast.IsNot: [ast.Is], ast.In: [ast.NotIn], ast.NotIn: [ast.In]}
# Functions a learner confuses: each name may stand for any other of its group.
SIBLINGS = [{"sum", "mean", "max", "prod"}, {"max", "min"}, {"maximum", "minimum"}, {"max", "maximum"},
            {"min", "minimum"}, {"argmax", "argmin"},
            {"zeros", "ones", "empty"}, {"zeros_like", "ones_like", "empty_like"},
            {"exp", "log", "sqrt", "square", "log1p", "log10", "expm1"}, {"var", "std"}, {"tanh", "exp"},
            {"perf_counter", "process_time", "thread_time", "monotonic", "time"},
            {"standard_normal", "random", "uniform"}, {"normal", "uniform"}, {"reshape", "transpose"}]
NAMED_AXES = (0, 1, -1, None)
WORDS = {ast.Add: "term", ast.Sub: "term", ast.Mult: "factor", ast.Div: "divisor", ast.FloorDiv: "divisor"}


@dataclass(frozen=True)
class Edit:
    where: str  # the function, and the quantity the edited expression computes
    what: str   # the edit, in the learner's terms: the wrong version first

    def __str__(self) -> str:
        return f"in {self.where}: {self.what}"


def _code(node, limit=48) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _inside(regions, node) -> bool:
    line = getattr(node, "lineno", None)
    return line is not None and any(first < line < last for first, last in regions)


def _regions(source: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each exercise region."""
    regions, start = [], None
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip() == BEGIN:
            start = number
        elif line.strip() == END and start is not None:
            regions.append((start, number))
            start = None
    return regions


class _Sites(ast.NodeVisitor):
    """Every (node, its slot, its function's qualified name, its statement) inside an exercise region."""

    def __init__(self, regions, functions):
        self.regions, self.functions, self.sites, self.scope, self.statement = regions, functions, [], [], None

    def generic_visit(self, node):
        for field, value in ast.iter_fields(node):
            for index, child in (enumerate(value) if isinstance(value, list) else [(None, value)]):
                if isinstance(child, ast.AST):
                    self.visit_child(child, (node, field, index))

    def visit_child(self, child, slot):
        if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
            self.scope.append(child)
            self.generic_visit(child)
            self.scope.pop()
            return
        qualname = _qualname(self.scope)
        if isinstance(child, ast.stmt):
            previous, self.statement = self.statement, child
        if qualname in self.functions and _inside(self.regions, child) and not isinstance(child, ast.expr_context):
            self.sites.append((child, slot, qualname, self.statement, self.scope[-1]))
        self.generic_visit(child)
        if isinstance(child, ast.stmt):
            self.statement = previous


def _qualname(scope: list) -> str:
    """The qualified name Python gives the innermost function of `scope`: Class.method, f.<locals>.g."""
    parts = []
    for node in scope:
        parts += [node.name] + (["<locals>"] if isinstance(node, ast.FunctionDef) else [])
    return ".".join(parts[:-1] if parts[-1:] == ["<locals>"] else parts)


def enclosing(source: str, line: int) -> str | None:
    """The qualified name of the innermost function of `source` around `line` (None outside any, or unparsable):
    where an error was raised, to match it with an edit's error raised in the same function."""
    try:
        node, scope = ast.parse(source), []
    except SyntaxError:
        return None
    while inner := [c for c in ast.iter_child_nodes(node) if isinstance(c, (ast.ClassDef, ast.FunctionDef))
                    and c.lineno <= line <= c.end_lineno]:
        node = inner[0]
        scope.append(node)
    while scope and not isinstance(scope[-1], ast.FunctionDef):
        scope.pop()
    return _qualname(scope) if scope else None


def _context(statement) -> str:
    if isinstance(statement, (ast.Assign, ast.AugAssign)):
        target = statement.targets[0] if isinstance(statement, ast.Assign) else statement.target
        return f" (where `{_code(target, 30)}` is computed)"
    if isinstance(statement, ast.Return):
        return " (its return value)"
    return ""


def _replacements(node):
    """(new node, words) for each first edit of an expression node; the words name the wrong version first."""
    if isinstance(node, ast.BinOp):
        symbol = SYMBOLS.get(type(node.op), "?")
        for other in OPERATORS.get(type(node.op), []):
            yield ast.BinOp(node.left, other(), node.right), f"`{SYMBOLS[other]}` in place of `{symbol}` " \
                f"({VERBS[other]} instead of {VERBS[type(node.op)]}" + (
                    ", element-wise)" if isinstance(node.op, ast.MatMult) else ")")
        if not isinstance(node.op, (ast.Add, ast.Mult)):
            yield ast.BinOp(node.right, node.op, node.left), f"the operands of `{symbol}` swapped (the wrong order)"
        for left, right in ((node.right, node.right), (node.left, node.left)):
            yield ast.BinOp(left, node.op, right), f"`{_code(left, 24)} {symbol} {_code(right, 24)}` in place of " \
                f"`{_code(node, 40)}` (one operand twice)"
        word = WORDS.get(type(node.op), "operand")
        yield node.left, f"the {word} `{_code(node.right, 30)}` left out"
        if isinstance(node.op, (ast.Add, ast.Mult, ast.MatMult)):
            yield node.right, f"the {word} `{_code(node.left, 30)}` left out"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        yield node.operand, ("the minus sign left out (the opposite sign)" if isinstance(node.op, ast.USub)
                             else "`not` left out (the condition reversed)")
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        symbol = SYMBOLS.get(type(node.ops[0]), "?")
        for other in OPERATORS.get(type(node.ops[0]), []):
            yield ast.Compare(node.left, [other()], node.comparators), f"`{SYMBOLS[other]}` in place of `{symbol}`"
        yield node.left, f"`{_code(node.left, 24)}` itself in place of the comparison `{_code(node, 40)}` (no mask)"
    elif isinstance(node, ast.Call):
        yield from _call_edits(node)
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield node.value, "without the transpose `.T`"
    elif isinstance(node, ast.Subscript):
        yield from _subscript_edits(node)
    elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
        yield from ((ast.Constant(v), f"`{v!r}` in place of `{node.value!r}`") for v in _constants(node.value))
    if isinstance(node, (ast.Tuple, ast.List)) and isinstance(node.ctx, ast.Load):
        yield from ((type(node)(elements, node.ctx), words) for elements, words in _swaps(node.elts))


def _substitutions(node, names: dict[str, set[str]], kinds: dict | None = None):
    """The second edits, tried after every first one: another value of the function in place of a value, of
    the same kind where `kinds` says what each held when the line first ran (a variable mixed up with another)."""
    if not (isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load)):
        return  # unparsed only for names: this runs for every expression of every function searched
    own = _code(node)
    if own in names["terms"]:
        others = names["terms"] - {own}
        if kinds and kinds.get(own) is not None:  # an array of another shape, a list for a number: no
            others = {other for other in others if kinds.get(other) == kinds[own]}
        for other in sorted(others):
            yield ast.parse(other, mode="eval").body, f"`{other}` in place of `{own}`"


def _secondary(node, names: dict[str, set[str]], kinds: dict | None = None):
    """The third edits, the widest guess: 0 or 1 for a value, a value wrapped in a function, another function
    of the module, another constant of the exercise."""
    if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
        own = _code(node)
        if own in names["terms"]:
            for other in ["0", "1"]:
                yield ast.parse(other, mode="eval").body, f"`{other}` in place of `{own}`"
            yield from _wrapped(node, own)
    elif isinstance(node, ast.Call):
        yield from _wrapped(node, _code(node, 30), terms=False)
        if isinstance(node.func, ast.Name) and node.func.id in names["functions"]:
            for other in sorted(names["functions"] - {node.func.id}):
                yield (ast.Call(ast.Name(other, ast.Load()), node.args, node.keywords),
                       f"`{other}` in place of `{node.func.id}` (the other function)")
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        for value in sorted(names["numbers"] - {node.value} - set(_constants(node.value)), key=str):
            yield ast.Constant(value), f"`{value!r}` in place of `{node.value!r}`"


# What a learner wraps a value in by mistake: (template, words); `_` is the value.
WRAPS = [("-_", "the opposite sign"), ("_ ** 2", "squared"), ("np.abs(_)", "its absolute value"),
         ("2 * _", "doubled"), ("_ / 2", "halved"), ("np.sqrt(_)", "its square root"), ("np.sign(_)", "its sign"),
         ("np.mean(_)", "its mean (one number)"),
         ("sorted(_)", "sorted"), ("_.astype(np.float32)", "converted to float32"),
         ("_.astype(np.float64)", "converted to float64"), ("_.copy()", "a copy")]
TERM_WRAPS = [("_[0]", "only its first entry or row"), ("_[1:]", "without its first entry"),
              ("_[:-1]", "without its last entry"), ("_ - 1", "one less (off by one)"),
              ("_ + 1", "one more (off by one)")]


def _wrapped(node, own: str, terms=True):
    for template, words in WRAPS + (TERM_WRAPS if terms else []):
        tree = ast.parse(template, mode="eval")
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if isinstance(value, ast.Name) and value.id == "_":
                    setattr(parent, field, node)
                elif isinstance(value, list):
                    value[:] = [node if isinstance(v, ast.Name) and v.id == "_" else v for v in value]
        yield tree.body, f"`{template.replace('_', own, 1)}` in place of `{own}` ({words})"


def _swaps(elements: list):
    """Each two elements of a tuple or an argument list exchanged."""
    for i in range(len(elements)):
        for j in range(i + 1, len(elements)):
            swapped = list(elements)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            yield swapped, f"`{_code(elements[i], 20)}` and `{_code(elements[j], 20)}` swapped (the wrong order)"


def _constants(value) -> list:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        options = [0, 1, 2 * value, value / 2 if isinstance(value, float) else value - 1, -value, value + 1]
        if isinstance(value, float) and 0 < value < 1:
            options.append(1 - value)
        return list(dict.fromkeys(v for v in options if v != value))
    return [0] if value is None else []


def _call_edits(node):
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    for group in SIBLINGS:
        if name in group:
            for other in sorted(group - {name}):
                func = copy.copy(node.func)
                if isinstance(func, ast.Attribute):
                    func.attr = other
                else:
                    func.id = other
                yield ast.Call(func, node.args, node.keywords), f"`{other}` in place of `{name}`"
    if len(node.args) == 1 and not node.keywords:
        yield node.args[0], f"without the call to `{_code(node.func, 30)}` (its argument as it is)"
    if isinstance(node.func, ast.Attribute) and not node.args and not node.keywords:
        yield node.func.value, f"without `.{node.func.attr}()`"
    for index, keyword in enumerate(node.keywords):
        if keyword.arg is None:
            continue
        others = node.keywords[:index] + node.keywords[index + 1:]
        yield ast.Call(node.func, node.args, others), f"without `{keyword.arg}={_code(keyword.value, 20)}`"
        if keyword.arg == "axis" or isinstance(getattr(keyword.value, "value", ""), bool):
            old = keyword.value.value if isinstance(keyword.value, ast.Constant) else object()
            for value in ([not old] if isinstance(old, bool) else [a for a in NAMED_AXES if a != old]):
                changed = ast.keyword(keyword.arg, ast.Constant(value))
                yield (ast.Call(node.func, node.args, others[:index] + [changed] + others[index:]),
                       f"`{keyword.arg}={value!r}` in place of `{keyword.arg}={_code(keyword.value, 20)}`")
    for args, words in _swaps(node.args):
        yield ast.Call(node.func, args, node.keywords), f"the arguments of `{_code(node.func, 30)}`: {words}"
    if name == "range":
        for index, argument in enumerate(node.args):
            for op, words in ((ast.Sub, "one fewer"), (ast.Add, "one more")):
                args = list(node.args)
                args[index] = ast.BinOp(argument, op(), ast.Constant(1))
                yield ast.Call(node.func, args, []), f"a range off by one (`{_code(args[index], 24)}`: {words})"


def _subscript_edits(node):
    index = node.slice
    if isinstance(index, ast.Tuple):
        for elements, words in _swaps(index.elts):
            yield ast.Subscript(node.value, ast.Tuple(elements, ast.Load()), node.ctx), f"the indices {words}"
    if isinstance(index, ast.Constant) and isinstance(index.value, int):
        for value in dict.fromkeys([index.value + 1, index.value - 1, 0, -1]):
            if value != index.value:
                yield (ast.Subscript(node.value, ast.Constant(value), node.ctx),
                       f"`[{value}]` in place of `[{index.value}]` (another entry, or the size of another axis)")
    if isinstance(index, ast.Constant) and not isinstance(index.value, int) or isinstance(index, ast.Slice):
        yield ast.Subscript(node.value, ast.Constant(0), node.ctx), f"`[0]` in place of `[{_code(index, 20)}]` " \
            "(only the first entry or row)"
    if isinstance(node.ctx, ast.Load):
        yield node.value, f"without the indexing `[{_code(index, 24)}]`"


def _statement_edits(statement, slot):
    """(replacement statements, how many statements from this one they replace, words) for a statement: left
    out, done twice, = and += exchanged, an `if` reversed, swapped with the next, moved across a loop's edge."""
    parent, field, index = slot
    if isinstance(statement, ast.AugAssign):
        yield [ast.Assign([statement.target], statement.value)], 1, f"`=` in place of " \
            f"`{SYMBOLS[type(statement.op)]}=` (overwritten instead of accumulated)"
        for other in OPERATORS.get(type(statement.op), [])[:1]:
            yield [ast.AugAssign(statement.target, other(), statement.value)], 1, \
                f"`{SYMBOLS[other]}=` in place of `{SYMBOLS[type(statement.op)]}=`"
    elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and not isinstance(
            statement.targets[0], ast.Tuple):
        yield [ast.AugAssign(statement.targets[0], ast.Add(), statement.value)], 1, \
            "`+=` in place of `=` (accumulated onto the old value instead of overwriting it)"
    if isinstance(statement, ast.If):
        yield [ast.If(ast.UnaryOp(ast.Not(), statement.test), statement.body, statement.orelse)], 1, \
            f"the condition `{_code(statement.test, 30)}` reversed"
        yield statement.body, 1, f"the test `if {_code(statement.test, 30)}` left out (its body always runs)"
    text = f"`{_code(statement, 40).splitlines()[0]}`"
    if isinstance(statement, ast.Return):
        if statement.value is not None:
            yield [ast.Return(None)], 1, "nothing returned (None)"
    elif not isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        yield [ast.Pass()], 1, f"the statement {text} left out (missing)"
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)):
        yield [statement, copy.deepcopy(statement)], 1, f"the statement {text} done twice"
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)) and statement.value is not None:
        yield from _exchanges(statement)
    if isinstance(statement, (ast.For, ast.While)):
        yield from _loop_edits(statement, getattr(parent, field), index)
    siblings = getattr(parent, field)
    if isinstance(index, int) and index + 1 < len(siblings) and not isinstance(siblings[index + 1], ast.Return):
        following = siblings[index + 1]
        yield [following, statement], 2, (f"the statements `{_code(statement, 30)}` and `{_code(following, 30)}` "
                                          "in the wrong order (one uses the other's old or new value)")
        if isinstance(following, (ast.For, ast.While)) and isinstance(statement, (ast.Assign, ast.AugAssign)):
            yield [_with_body(following, [statement] + following.body)], 2, \
                f"the statement {text} inside the loop that follows it (redone at every iteration)"


class _Exchange(ast.NodeTransformer):
    """A copy of an expression with two terms (names or attribute chains) exchanged wherever they occur."""

    def __init__(self, first: str, second: str):
        self.other = {first: second, second: first}

    def visit(self, node):
        if isinstance(node, (ast.Name, ast.Attribute)) and ast.unparse(node) in self.other:
            return ast.copy_location(ast.parse(self.other[ast.unparse(node)], mode="eval").body, node)
        return self.generic_visit(node)


def _exchanges(statement, most=6):
    """The statement with two of its terms exchanged: `y * (1 - g ** 2)` for `g * (1 - y ** 2)`."""
    called = {id(n.func) for n in ast.walk(statement.value) if isinstance(n, ast.Call)}
    chains = {id(n.value) for n in ast.walk(statement.value) if isinstance(n, ast.Attribute)}
    terms = list(dict.fromkeys(ast.unparse(n) for n in ast.walk(statement.value) if isinstance(n, (
        ast.Name, ast.Attribute)) and id(n) not in called and id(n) not in chains))[:most]  # no `np`, no `f` of f()
    for first, second in itertools.combinations(terms, 2):
        exchanged = copy.copy(statement)
        exchanged.value = _Exchange(first, second).visit(copy.deepcopy(statement.value))
        yield [exchanged], 1, f"`{first}` and `{second}` exchanged (each where the other belongs)"


def _with_body(loop, body):
    changed = copy.copy(loop)
    changed.body = body or [ast.Pass()]
    return changed


def _loop_edits(loop, siblings, index):
    """A loop's first statement done once before it, its last after it, or the next statement inside it."""
    first, last = loop.body[0], loop.body[-1]
    if isinstance(first, (ast.Assign, ast.AugAssign)) and len(loop.body) > 1:
        yield [first, _with_body(loop, loop.body[1:])], 1, \
            f"the statement `{_code(first, 40)}` before the loop (done once, not at every iteration)"
    if isinstance(last, (ast.Assign, ast.AugAssign, ast.Expr)) and len(loop.body) > 1:
        yield [_with_body(loop, loop.body[:-1]), last], 1, \
            f"the statement `{_code(last, 40)}` after the loop (done once, not at every iteration)"
    following = siblings[index + 1] if isinstance(index, int) and index + 1 < len(siblings) else None
    if isinstance(following, (ast.Assign, ast.AugAssign, ast.Expr)):
        yield [_with_body(loop, loop.body + [following])], 2, \
            f"the statement `{_code(following, 40)}` inside the loop before it (done at every iteration)"


def _names(tree, regions) -> dict[str, dict[str, set[str]]]:
    """Per function, its terms (the local names, `x.attr` of a local name, and the `self.x` attributes of its
    class); the module's functions, and the numbers written in its exercise regions."""
    found: dict[str, dict[str, set[str]]] = {}
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    numbers = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) in (int, float)
               and _inside(regions, n)}

    def walk(node, scope, cls):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                walk(child, scope + [child], child)
            elif isinstance(child, ast.FunctionDef):
                local = {a.arg for a in child.args.args + child.args.kwonlyargs} - {"self"} | {
                    n.id for n in ast.walk(child) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                chains = {ast.unparse(n) for n in ast.walk(child) if isinstance(n, ast.Attribute)
                          and isinstance(n.value, ast.Name) and n.value.id in local}
                attributes = {ast.unparse(n) for n in ast.walk(cls or child) if isinstance(n, ast.Attribute)
                              and isinstance(n.value, ast.Name) and n.value.id == "self"}
                found[_qualname(scope + [child])] = {"terms": local | chains | attributes, "functions": functions,
                                                     "numbers": numbers}
                walk(child, scope + [child], cls)
    walk(tree, [], None)
    return found


def candidates(source: str, functions: list[str], ran: dict[int, dict] | None = None):
    """The parsed tree, and (Edit, apply) for every single edit inside the exercise regions of `functions`, in
    their order (then the source's); `apply()` makes the edit in the tree and returns a function undoing it.
    `ran`: the lines the scenario ran, each with the kinds of the values it could read (`kind`); an edit in a
    statement that never ran cannot change what it computes."""
    tree, regions = ast.parse(source), _regions(source)
    sites = _Sites(regions, set(functions))
    sites.visit_child(tree, None)
    rank = {name: i for i, name in enumerate(functions)}
    kept = [site for site in sites.sites if ran is None or site[3] is None or _ran(site[3], ran)]
    return tree, _edits(sorted(kept, key=lambda site: rank[site[2]]), _names(tree, regions), ran or {})


def kind(value):
    """What a value is, for the substitutions: an array's shape and dtype kind, a number, or None (unknown)."""
    if isinstance(value, np.ndarray):
        return value.shape, value.dtype.kind
    return "number" if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else None


def kinds_of(local_values: dict, depth: int = 2) -> dict:
    """The kinds of a frame's locals and of their attributes (`p.grad`, `self.W.data`): what its line could read."""
    found = {}
    for name, value in local_values.items():
        found[name] = kind(value)
        attributes = getattr(value, "__dict__", None)
        if depth > 1 and isinstance(attributes, dict):
            found.update(kinds_of({f"{name}.{a}": inner for a, inner in attributes.items()}, depth - 1))
    return found


def _ran(statement, ran: dict[int, dict]) -> bool:
    """Whether any line of the statement ran (of a compound statement, its header: `for ...:`, `if ...:`)."""
    body = getattr(statement, "body", None)
    last = body[0].lineno - 1 if isinstance(body, list) and body else statement.end_lineno
    return any(line in ran for line in range(statement.lineno, max(last, statement.lineno) + 1))


def _edits(sites, names, ran: dict):
    """The first edits of every function (its statements and expressions), function by function in the given
    order; then the second (another value of the same kind), then the third (wraps, functions, numbers), each
    taken from the functions in turn (one each, round and round), so that a function with many terms cannot use
    the whole budget before the next is tried."""
    yield from itertools.chain.from_iterable(_edits_of(site, names, _replacements, ran) for site in sites)
    groups = [list(group) for _, group in itertools.groupby(sites, key=lambda site: site[2])]
    for tier in (_substitutions, _secondary):
        by_function = [itertools.chain.from_iterable(_edits_of(site, names, tier, ran) for site in group)
                       for group in groups]
        for turn in itertools.zip_longest(*by_function):
            yield from (edit for edit in turn if edit is not None)


def _edits_of(site, names, tier, ran: dict):
    node, slot, qualname, statement, function = site
    own = names.get(qualname, {"terms": set(), "functions": set(), "numbers": set()})
    kinds = ran.get(node.lineno) or (ran.get(statement.lineno) if statement else None)
    if isinstance(node, ast.stmt):
        edits = _statement_edits(node, slot) if tier is _replacements else []
    else:
        edits = ((new, None, words) for new, words in (_replacements(node) if tier is _replacements
                                                       else tier(node, own, kinds)))
    where = f"{qualname}{_context(statement)}"
    for new, count, words in edits:
        apply = _applier(slot, node, new, count)
        apply.function = function  # whose code the edit changes: two edits that make the same code are one
        yield Edit(where, words), apply


def _applier(slot, old, new, count):
    """Apply: put `new` in `old`'s slot (an expression), or in place of `count` statements from `old` on."""
    parent, field, index = slot

    def apply():
        siblings = getattr(parent, field)
        if count is not None:
            before = siblings[index:index + count]
            siblings[index:index + count] = new
            return lambda: siblings.__setitem__(slice(index, index + len(new)), before)
        if index is None:
            setattr(parent, field, ast.copy_location(new, old))
            return lambda: setattr(parent, field, old)
        siblings[index] = ast.copy_location(new, old)
        return lambda: siblings.__setitem__(index, old)

    return apply


def build(tree, apply, module: types.ModuleType, seen: set | None = None) -> types.ModuleType | None:
    """A fresh copy of `module` from the edited tree (the edit undone afterwards); its imports resolve as the
    reference's do (same package), so the rest of the reference is shared. `seen`: the code of the functions
    edited so far; None when this edit makes code an earlier one made (the same mistake in other words)."""
    undo = apply()
    try:
        if seen is not None:
            made = ast.dump(apply.function)
            if made in seen:
                return None
            seen.add(made)
        code = compile(ast.fix_missing_locations(tree), module.__file__, "exec")
    finally:
        undo()
    edited = types.ModuleType(module.__name__, module.__doc__)
    edited.__dict__.update(__file__=module.__file__, __package__=module.__package__, __spec__=module.__spec__)
    exec(code, edited.__dict__)  # noqa: S102 - the judge's own reference, edited by the judge
    return edited


def same(yours, mine, reference) -> bool:
    """Whether an edit's value `mine` reproduces the learner's `yours`: equal to rounding, and, where the learner's
    differs from the reference's, far closer to it than the reference's is."""
    if isinstance(yours, dict) and isinstance(mine, dict) and "raised" in yours:
        return (yours.get("raised") or [None])[0] == (mine.get("raised") or [None])[0]
    try:
        a, b, r = (np.asarray(v) for v in (yours, mine, reference))
        numeric = all(v.dtype.kind in "biuf" for v in (a, b))
    except Exception:  # noqa: BLE001 - ragged or odd values: compared as plain data below
        numeric = False
    if not numeric:
        return _plain(yours) == _plain(mine)
    if a.shape != b.shape or (a.size > 1 and a.dtype != b.dtype and a.dtype.kind == b.dtype.kind == "f"):
        return False
    a, b = a.astype(np.float64), b.astype(np.float64)
    if not np.array_equal(np.isnan(a), np.isnan(b)) or not np.array_equal(a[np.isinf(a)], b[np.isinf(b)]):
        return False
    finite = np.isfinite(a)
    scale = max(np.max(np.abs(a[finite]), initial=0.0), 1e-30)
    gap = np.max(np.abs(a[finite] - b[finite]), initial=0.0) / scale
    wrong = (r.shape == a.shape and r.dtype.kind in "biuf"
             and np.max(np.abs(np.nan_to_num(r.astype(np.float64)) - np.nan_to_num(a)), initial=0.0) / scale)
    return gap <= (min(1e-5, 0.01 * wrong) if wrong and wrong > 1e-5 else 1e-5)


def agree(yours: list, mine: list, reference: list, index: int) -> bool:
    """Whether observation `index` of an edit's run (`mine`) reproduces the learner's."""
    if index >= len(yours) or yours[index].what != mine[index].what:
        return False
    theirs = reference[index] if index < len(reference) and reference[index].what == yours[index].what else None
    return same(yours[index].value, mine[index].value, None if theirs is None else theirs.value)


def first_difference(yours: list, your_error, reference: list) -> int:
    """The index of the first observation where the learner's run leaves the reference's (its error's place)."""
    for index in range(min(len(yours), len(reference))):
        if not agree(yours, reference, reference, index):
            return index
    return min(len(yours), len(reference)) if your_error or len(yours) != len(reference) else len(yours)


def sentence(found: list[Edit]) -> str | None:
    """The message: every edit that reproduces the learner's numbers (they cannot be told apart)."""
    if not found:
        return None
    unique = list(dict.fromkeys(found))
    if len(unique) > SHOWN:  # many edits fit: the numbers do not point at one place
        return None
    if len(unique) == 1:
        return f"Every value this test checks is exactly what the correct code gives with one change, {unique[0]}."
    listed = "; ".join(str(edit) for edit in unique)
    return ("Every value this test checks is exactly what the correct code gives with any one of these changes "
            f"(the numbers cannot tell them apart): {listed}.")
