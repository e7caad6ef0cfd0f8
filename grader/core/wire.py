"""What crosses from the worker (learner code) to the judge: plain data, checked on arrival.

A value is encoded as a JSON tree with its arrays set aside as raw bytes; a message is one frame:

    8-byte length | JSON header | for each array: 8-byte length | raw bytes

Decoding never calls anything the worker defined: no pickle, no `__array__`, no `__eq__`. It accepts
only JSON types, tagged tuples and dicts, and arrays of a numeric dtype whose byte count matches their
shape, and builds fresh base-class ndarrays from the bytes. A subclass whose comparisons always succeed,
or an object that lies through `__array__`, arrives as plain numbers or not at all.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field

import numpy as np

# dtypes an observation may carry; anything else (object, structured, strings) is refused.
DTYPES = frozenset(["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"])
MAX_HEADER_BYTES = 4 << 20  # JSON: names, flags, small lists; numbers in bulk travel as arrays
MAX_DEPTH = 20
# The most array bytes one message may bring to the judge. One test's observations measured on the
# reference stay under 3 MB (the largest, a training test); a milestone's events carry a network's weights.
TEST_BYTES = 64 << 20
TASK_BYTES = 256 << 20
TASK_TOTAL_BYTES = 1 << 30  # all of one milestone task's events together (the judge keeps them)
SESSION_BYTES = 256 << 20  # all of one exercise's test reports together (the judge keeps them until judged)
# What each stream may carry: the worker's report of an exercise's tests, a milestone task's events (any
# kind), and the judge's replies to a task.
TEST_STREAM = {"start": 0, "test": TEST_BYTES, "collect_error": 0, "finish": 0}
TASK_STREAM = {"*": TASK_BYTES}
_LENGTH = struct.Struct("<Q")


class WireError(ValueError):
    """A frame or value that is not what the protocol allows; the message says what was wrong."""


@dataclass
class Packed:
    """An encoded value: a JSON-able tree whose arrays are {"__array__": i, ...} and `arrays[i]` bytes."""

    tree: object
    arrays: list = field(default_factory=list)


def _encode(value, arrays: list, depth: int):
    if depth > MAX_DEPTH:
        return {"__object__": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.generic):
        return int(value)
    if isinstance(value, float) and not isinstance(value, np.generic):
        return float(value) if math.isfinite(value) else {"__float__": repr(float(value))}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.array(value, subok=False)  # a copy, as the base class
        if array.dtype.name not in DTYPES:
            return {"__object__": f"array of dtype {array.dtype}"}
        arrays.append(np.ascontiguousarray(array).tobytes())
        return {"__array__": len(arrays) - 1, "dtype": array.dtype.name, "shape": list(array.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[str(k), _encode(v, arrays, depth + 1)] for k, v in value.items()]}
    return {"__object__": type(value).__name__}


def encode_value(value) -> Packed:
    """Worker side: the learner's value as plain data (never raises on odd objects)."""
    arrays: list = []
    try:
        tree = _encode(value, arrays, 0)
    except Exception as error:  # noqa: BLE001 - a learner object whose conversion raises
        return Packed({"__object__": f"{type(value).__name__} (could not be read: {error})"}, [])
    return Packed(tree, arrays)


class Opaque:
    """A value the worker could not send as data (a learner object, an object array)."""

    def __init__(self, description: str):
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


def _decode(tree, arrays: list, depth: int):
    if depth > MAX_DEPTH:
        raise WireError("a value is nested too deeply")
    if tree is None or type(tree) in (bool, str, int, float):
        return tree
    if type(tree) is list:
        return [_decode(v, arrays, depth + 1) for v in tree]
    if type(tree) is not dict or len(tree) not in (1, 3):
        raise WireError(f"unexpected value of type {type(tree).__name__}")
    if "__array__" in tree:
        size, index = _array_bytes(tree), tree["__array__"]
        if index >= len(arrays) or len(arrays[index]) != size:
            raise WireError(f"an array of shape {tuple(tree['shape'])} and dtype {tree['dtype']} lacks its bytes")
        return np.frombuffer(arrays[index], dtype=tree["dtype"]).reshape(tree["shape"]).copy()
    (tag, inner), = tree.items()
    if tag == "__tuple__" and type(inner) is list:
        return tuple(_decode(v, arrays, depth + 1) for v in inner)
    if tag == "__dict__" and type(inner) is list:
        if any(type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str for pair in inner):
            raise WireError("a dict entry is not a [key, value] pair")
        return {k: _decode(v, arrays, depth + 1) for k, v in inner}
    if tag == "__float__" and inner in ("nan", "inf", "-inf"):
        return float(inner)
    if tag == "__object__" and type(inner) is str:
        return Opaque(inner[:200])
    raise WireError(f"unknown tag {tag!r}")


def _array_bytes(tree: dict) -> int:
    """The byte count of an array node {"__array__": i, "dtype": ..., "shape": [...]}; WireError if invalid."""
    index, dtype, shape = tree.get("__array__"), tree.get("dtype"), tree.get("shape")
    if type(index) is not int or index < 0 or dtype not in DTYPES or type(shape) is not list or len(shape) > 32 \
            or any(type(n) is not int or not 0 <= n < 1 << 40 for n in shape):
        raise WireError(f"an array node is malformed (index, dtype {str(dtype)[:20]!r} or shape)")
    return math.prod(shape) * np.dtype(dtype).itemsize


def decode_value(packed: Packed):
    """Judge side: plain Python values and fresh ndarrays; raises WireError on anything else."""
    if not isinstance(packed, Packed):
        raise WireError("not an encoded value")
    return _decode(packed.tree, packed.arrays, 0)


# ---- frames -------------------------------------------------------------------------------------------

def pack_message(header: dict, arrays: list[bytes]) -> bytes:
    """One frame: a JSON header and the raw bytes of the arrays it refers to."""
    text = json.dumps(header, allow_nan=False).encode()
    parts = [_LENGTH.pack(len(text)), text, _LENGTH.pack(len(arrays))]
    for data in arrays:
        parts += [_LENGTH.pack(len(data)), data]
    return b"".join(parts)


def _read_exactly(stream, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the worker's stream ended in the middle of a message")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _declared_bytes(tree, sizes: dict, depth: int = 0) -> None:
    """{array index: byte count} of every array the header declares (checked again when decoded)."""
    if depth > 2 * MAX_DEPTH + 8:
        raise WireError("a message header is nested too deeply")
    if type(tree) is list:
        for value in tree:
            _declared_bytes(value, sizes, depth + 1)
    elif type(tree) is dict:
        if "__array__" in tree:
            size = _array_bytes(tree)  # the index is an int from here
            if tree["__array__"] in sizes:
                raise WireError("a message header declares one array twice")
            sizes[tree["__array__"]] = size
        for value in tree.values():
            _declared_bytes(value, sizes, depth + 1)


def read_message(stream, budgets: dict[str, int]) -> tuple[dict, list[bytes]] | None:
    """The next frame from a binary stream, or None at a clean end of stream.

    `budgets` maps each message type this stream may carry to the most array bytes one such message may
    bring ("*": any other type). Everything is checked before any array is read: the header's size, its
    JSON (no huge integers, no deep nesting), its type, and that the arrays it declares fit the budget and
    match the byte counts that follow. A frame that fails raises WireError saying why."""
    first = stream.read(_LENGTH.size)
    if not first:
        return None
    if len(first) < _LENGTH.size:
        first += _read_exactly(stream, _LENGTH.size - len(first))
    (size,) = _LENGTH.unpack(first)
    if size > MAX_HEADER_BYTES:
        raise WireError(f"a message header of {size} bytes is larger than the {MAX_HEADER_BYTES} allowed")
    try:
        header = json.loads(_read_exactly(stream, size))
    except (ValueError, RecursionError) as error:  # bad JSON, an integer of thousands of digits, deep nesting
        raise WireError(f"a message header is not acceptable JSON ({type(error).__name__}: {str(error)[:120]})") \
            from None
    kind = header.get("type") if type(header) is dict else None
    budget = budgets.get(kind, budgets.get("*")) if type(kind) is str else None
    if budget is None:
        raise WireError(f"a message of type {str(kind)[:40]!r} is not one this channel carries")
    sizes: dict[int, int] = {}
    _declared_bytes(header, sizes)
    if sum(sizes.values()) > budget:
        raise WireError(f"a {kind!r} message declares {sum(sizes.values())} bytes of arrays, more than the "
                        f"{budget} one may carry")
    (count,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    if count != len(sizes) or sorted(sizes) != list(range(count)):
        raise WireError(f"a message declares {len(sizes)} arrays but carries {count}")
    arrays = []
    for index in range(count):
        (n,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
        if n != sizes[index]:
            raise WireError(f"an array declared as {sizes[index]} bytes came as {n}")
        arrays.append(_read_exactly(stream, n))
    return header, arrays


def pack_observations(nodeid: str, observations: list, error: dict | None) -> bytes:
    """The frame the worker sends at the end of one test: its observations in order, and its error."""
    arrays: list[bytes] = []
    items = []
    for observation in observations:
        packed = observation.value
        offset = len(arrays)
        arrays.extend(packed.arrays)
        items.append({"what": observation.what, "kind": observation.kind,
                      "tree": _shift(packed.tree, offset)})
    return pack_message({"type": "test", "nodeid": nodeid, "observations": items, "error": error}, arrays)


def _shift(tree, offset: int):
    if offset == 0:
        return tree
    if type(tree) is list:
        return [_shift(v, offset) for v in tree]
    if type(tree) is dict:
        if "__array__" in tree:
            return dict(tree, __array__=tree["__array__"] + offset)
        return {k: _shift(v, offset) for k, v in tree.items()}
    return tree


@dataclass
class Observation:
    """One check's record: its name, its kind, and the learner's value (Packed on the judge's side)."""

    what: str
    kind: str
    value: object


def unpack_observations(header: dict, arrays: list[bytes]):
    """Judge side: (nodeid, [Observation with Packed values], error) from a test frame, validated."""
    nodeid, items, error = header.get("nodeid"), header.get("observations"), header.get("error")
    if type(nodeid) is not str or type(items) is not list:
        raise WireError("a test message lacks its test id or observations")
    observations = []
    for item in items:
        if type(item) is not dict or type(item.get("what")) is not str or type(item.get("kind")) is not str:
            raise WireError("an observation lacks its name or kind")
        packed = Packed(item.get("tree"), arrays)
        decode_value(packed)  # validate now: a bad value fails the message, not a later check
        observations.append(Observation(item["what"], item["kind"], packed))
    if error is not None and (type(error) is not dict or
                              any(type(error.get(k)) not in (str, type(None)) for k in ("kind", "message", "where"))):
        raise WireError("a test message has a malformed error")
    return nodeid, observations, error
