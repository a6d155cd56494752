import os
import time

import pytest

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
    assert not wrong.passed and wrong.status == "error" and "AssertionError" in wrong.stderr


def test_run_program_output_status_and_working_directory():
    r = run_program("import os\nopen('note.txt', 'w').write('hi')\nprint(open('note.txt').read(), __name__)")
    assert (r.status, r.stdout, r.returncode) == ("ok", "hi __main__\n", 0)
    r = run_program("import sys\nprint('partial')\nsys.exit(3)")
    assert (r.status, r.stdout, r.returncode) == ("error", "partial\n", 3)
    r = run_program("input()")
    assert r.status == "error" and "EOFError" in r.stderr


def test_common_standard_library_still_works():
    source = ("from collections import namedtuple\nimport dataclasses, enum, typing, logging, re, heapq, fractions\n"
              "P = namedtuple('P', 'x y')\nE = enum.Enum('E', 'a b')\nT = typing.TypeVar('T')\n"
              "@dataclasses.dataclass\nclass D:\n    x: int = 1\nprint(P(1, 2), E.a, D())")
    r = run_program(source)
    assert r.status == "ok", r.stderr
    assert r.stdout == "P(x=1, y=2) E.a D(x=1)\n"


def test_infinite_loop_times_out_quickly():
    start = time.time()
    r = check("    while True:\n        pass\n", timeout=1)
    assert r.status == "timeout" and not r.passed
    assert time.time() - start < 5


def test_memory_bomb_fails_without_hurting_the_caller():
    r = run_program("x = bytearray(4 << 30)\nprint('allocated')", memory_mb=256)
    assert r.status == "error" and "MemoryError" in r.stderr and "allocated" not in r.stdout
    assert check(RIGHT).passed  # the caller is fine afterwards


@pytest.mark.parametrize("attack", [
    "import os\nos.system('touch {marker}')",
    "import subprocess\nsubprocess.run(['touch', '{marker}'])",
    "import os\nif os.fork() == 0:\n    open('{marker}', 'w').close()",
    "import os\nos.posix_spawn('/usr/bin/touch', ['touch', '{marker}'], {{}})",
    "import _posixsubprocess",
    "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)",
    "open('{marker}', 'w').write('x')",
    "import os\nos.open('{marker}', os.O_WRONLY | os.O_CREAT)",
    "import os\nos.remove('{keep}')",
    "import os\nos.rename('{keep}', '{marker}')",
    "import shutil\nshutil.rmtree('{dir}')",
    "open('{keep}', 'w').write('overwritten')",
    "import os\nos.chdir('{dir}')\nopen('keep.txt', 'a').write('appended')",
    "import os\nos.symlink('{keep}', 'link')\nopen('link', 'w').write('through a link')",
    "print(open('/proc/self/mem', 'rb').read(1))",
    "print(open('/etc/passwd').read())",
    "import socket\nsocket.create_connection(('127.0.0.1', 9))",
    "import ctypes",
    "import os\nos.mkfifo('{marker}')",
    # a path that names one file when the sandbox looks and another when the file is opened
    "class Sneaky:\n    calls = 0\n    def __fspath__(self):\n        Sneaky.calls += 1\n"
    "        return '{keep}' if Sneaky.calls % 2 else 'inside.txt'\n"
    "for _ in range(2):\n    try:\n        open(Sneaky(), 'w').write('x')\n    except PermissionError:\n        pass\n"
    "raise SystemExit(1)",
    "class Sneaky(str):\n    def startswith(self, prefix):\n        return True\nopen(Sneaky('{keep}'), 'w')",
    "import posix\nposix.mknod('{marker}')",
    "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))",
])
def test_dangerous_operations_are_refused_and_touch_nothing_outside(tmp_path, attack):
    keep, marker = tmp_path / "keep.txt", tmp_path / "marker"
    keep.write_text("precious")
    r = run_program(attack.format(keep=keep, marker=marker, dir=tmp_path))
    assert r.status == "error", (attack, r)
    assert keep.read_text() == "precious" and not marker.exists()
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


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
])
def test_early_exits_and_fake_output_are_not_a_pass(completion):
    r = check(completion)
    assert not r.passed and r.status == "error", (completion, r)


@pytest.mark.parametrize("completion", [
    # replace the builtins the test relies on
    "    return a - b\nimport builtins\nbuiltins.abs = lambda x: 0\n",
    "    return a - b\nimport builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\n",
    # rebind check after the test defined it: from a finalizer, from a thread, from the candidate itself
    "    return a - b\nclass Later:\n    def __del__(self):\n        globals()['check'] = lambda candidate: None\n"
    "import gc\ngc.disable()\n_cycle = Later()\n_cycle.me = _cycle\ndel _cycle\n",
    "    return a - b\nimport threading\ndef _swap():\n    while True:\n"
    "        globals()['check'] = lambda candidate: None\nthreading.Thread(target=_swap, daemon=True).start()\n",
    "    globals()['check'] = lambda candidate: None\n    import builtins\n    builtins.abs = lambda x: 0\n"
    "    return a - b\n",
    "    return a - b\ncheck = lambda candidate: None\n",
])
def test_patching_the_test_is_not_a_pass(completion):
    r = check(completion)
    assert not r.passed, (completion, r)


# If the harness's frame (which holds the nonce and the verdict pipe) could be reached, this would forge a pass.
FRAME_THIEF = '''    return a - b
import gc, os, sys

def _frames():
    # each route's frame is taken while it is running, so that its f_back chain is intact
    try:
        yield sys._getframe(1)
    except Exception:
        pass
    try:
        raise RuntimeError
    except RuntimeError as e:
        try:
            yield e.__traceback__.tb_frame.f_back
        except Exception:
            pass
    try:
        yield from sys._current_frames().values()
    except Exception:
        pass
    try:
        yield from (o for o in gc.get_objects() if type(o).__name__ == "frame")
    except Exception:
        pass

def _steal():
    for frame in _frames():
        while frame is not None:
            found = frame.f_locals
            if "nonce" in found and "verdict_fd" in found:
                os.write(found["verdict_fd"], found["nonce"])
                os._exit(0)
            frame = frame.f_back

_steal()
'''

SIGNAL_THIEF = '''    return a - b
import os, signal

def _handler(signum, frame):
    while frame is not None:
        if "nonce" in frame.f_locals:
            os.write(frame.f_locals["verdict_fd"], frame.f_locals["nonce"])
            os._exit(0)
        frame = frame.f_back

signal.signal(signal.SIGALRM, _handler)
signal.setitimer(signal.ITIMER_REAL, 0.001)
import time
time.sleep(1)
'''


@pytest.mark.parametrize("completion", [FRAME_THIEF, SIGNAL_THIEF])
def test_the_harness_frame_is_out_of_reach(completion):
    r = check(completion)
    assert not r.passed and r.status == "error", r


def test_check_many_keeps_order():
    problems = [dict(prompt=PROMPT, completion=c, test=TEST, entry_point="add") for c in (RIGHT, WRONG, RIGHT)]
    assert [r.passed for r in check_many(problems, workers=2)] == [True, False, True]


def test_missing_entry_point_or_check_fails():
    assert not check_program(PROMPT, RIGHT, TEST, "not_there").passed
    assert not check_program(PROMPT, RIGHT, "x = 1\n", "add").passed


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="positive"):
        run_program("pass", timeout=0)
