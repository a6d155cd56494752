"""Hostile programs against sandbox.py, all in one check_many batch, each next to a correct sample.

What must hold: no attack passes; every correct sample passes (the evaluator and the other samples are
unharmed); nothing outside changes (canary files, the interpreter's site-packages); no secret leaks (an
environment variable of the evaluator); the network stays out of reach (a loopback listener receives nothing);
the evaluator's signals, limits, CPU affinity and priority are untouched; no process is left.
"""
import ctypes
import os
import resource
import signal
import socket
import sysconfig
import time
from string import Template

import pytest

from sandbox import OUTPUT_KEPT_BYTES, SCRATCH_BYTES, check_many, run_program

PROMPT = 'def add(a, b):\n    """Return the sum of a and b."""\n'
TEST = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert abs(candidate(0.5, 0.25) - 0.75) < 1e-9\n"
RIGHT = "    return a + b\n"
WRONG = "    return a - b\n"
SHOUT = ('def shout(text):\n    """Return text in capitals."""\n',
         "def check(candidate):\n    assert candidate('hi') == 'HI'\n", "shout")
HYPOT = ('import math\n\ndef hypot(a, b):\n    """The hypotenuse."""\n',
         "import math\n\ndef check(candidate):\n    assert math.isclose(candidate(3, 4), 5.0)\n", "hypot")

# name -> a completion of `add`, or ((prompt, test, entry_point), completion). $keep (a canary file), $dir (its
# folder), $marker (a file that must not appear), $evaluator (this process's pid), $port (a loopback listener)
# and $site (the interpreter's site-packages) are filled in. The harm is done at import or inside the candidate.
FAKED_PASSES = {
    "always_equal": r"""
    class Anything:
        __eq__ = __lt__ = __gt__ = lambda self, other: True
        __sub__ = __abs__ = __add__ = lambda self, *other: self
    return Anything()
""",
    "int_subclass_equal_to_everything": r"""
    class Liar(int):
        def __eq__(self, other):
            return True
        __hash__ = int.__hash__
    return Liar(0)
""",
    "str_subclass": (SHOUT, r"""
    class Liar(str):
        def __eq__(self, other):
            return True
        __hash__ = str.__hash__
    return Liar('no')
"""),
    "shadowed_builtins": WRONG + r"""
import builtins
builtins.abs = lambda x: 0
abs = lambda x: 0
builtins.AssertionError = type('Quiet', (Exception,), {})
""",
    "sys_modules_replaced": (HYPOT, r"""
    return 0
import sys, types
fake = types.ModuleType('math')
fake.isclose = lambda *a, **k: True
sys.modules['math'] = fake
math = fake
"""),
    "gc_frame_walk": WRONG + r"""
import gc, sys
for o in gc.get_objects():
    if type(o).__name__ == 'frame':
        o.f_globals['check'] = lambda c: None
for f in sys._current_frames().values():
    while f:
        f.f_globals.pop('check', None)
        f = f.f_back
""",
    "proc_self_mem": WRONG + r"""
for path in ('/proc/self/mem', '/proc/1/mem'):
    try:
        print(open(path, 'rb').read(1))
    except OSError as e:
        print(e)
""",
    "forged_replies_ahead": WRONG + r"""
import os
for fd in range(3, 256):
    try:
        os.write(fd, b'\x00\x00\x00\x05lT' * 8)
    except OSError:
        pass
""",
    "garbage_reply": r"""
    import os
    for fd in range(3, 256):
        try:
            os.write(fd, b'\x00\x00\x00\x03T\x00\x00')
        except OSError:
            pass
    return a + b
""",
    "oversized_reply": "    return 'x' * (9 << 20)\n",
    "raises_system_exit_zero": "    raise SystemExit(0)\n",
    "exits_zero_in_candidate": "    import os\n    os._exit(0)\n",
    "sigstop_self": "    import os, signal\n    os.kill(os.getpid(), signal.SIGSTOP)\n    return a + b\n",
}
ESCAPES = {
    "read_canary": WRONG + "print(open('$keep').read())\n",
    "write_canary": WRONG + "open('$keep', 'w').write('overwritten')\n",
    "append_after_chdir": WRONG + "import os\nos.chdir('$dir')\nopen('keep.txt', 'a').write('appended')\n",
    "rename_canary": WRONG + "import os\nos.rename('$keep', '$marker')\n",
    "delete_canary": WRONG + "import os\nos.remove('$keep')\n",
    "rmtree_canary_folder": WRONG + "import shutil\nshutil.rmtree('$dir')\n",
    "dir_fd_walk_up": WRONG + r"""
import os
fd = os.open('.', os.O_RDONLY)
for _ in range(40):
    fd = os.open('..', os.O_RDONLY, dir_fd=fd)
os.write(os.open('$keep'.lstrip('/'), os.O_WRONLY | os.O_TRUNC, dir_fd=fd), b'gone')
""",
    "dir_fd_rename": WRONG + r"""
import os
fd = os.open('/', os.O_RDONLY)
os.rename('$keep'.lstrip('/'), '$marker'.lstrip('/'), src_dir_fd=fd, dst_dir_fd=fd)
""",
    "symlink_out": WRONG + "import os\nos.symlink('$keep', 'link')\nopen('link', 'w').write('through a link')\n",
    "create_marker": WRONG + "import os\nos.open('$marker', os.O_WRONLY | os.O_CREAT)\n",
    "mkfifo_and_mknod": WRONG + r"""
import os, posix
for make in (os.mkfifo, posix.mknod):
    try:
        make('$marker')
    except OSError as e:
        print(e)
""",
    "fspath_that_changes": WRONG + r"""
class Sneaky:
    calls = 0
    def __fspath__(self):
        Sneaky.calls += 1
        return '$keep' if Sneaky.calls % 2 else 'inside.txt'
for _ in range(2):
    try:
        open(Sneaky(), 'w').write('x')
    except OSError:
        pass
""",
    "str_subclass_path": WRONG + r"""
class Sneaky(str):
    def startswith(self, prefix):
        return True
open(Sneaky('$keep'), 'w')
""",
    "environment_secret": WRONG + r"""
import os
print(dict(os.environ))
for path in ('/proc/self/environ', '/proc/1/environ'):
    try:
        print(open(path).read())
    except OSError:
        pass
""",
    "etc_and_home": WRONG + r"""
import os
for path in ('/etc/passwd', '/etc/shadow', '/root', '$dir', '/work'):
    try:
        print(open(path).read() if os.path.isfile(path) else os.listdir(path))
    except OSError as e:
        print(e)
""",
    "os_system": WRONG + "import os\nos.system('touch $marker')\n",
    "subprocess": WRONG + "import subprocess\nsubprocess.run(['touch', '$marker'])\n",
    "fork": WRONG + "import os\nif os.fork() == 0:\n    open('$marker', 'w').close()\n",
    "posix_spawn": WRONG + "import os\nos.posix_spawn('/usr/bin/touch', ['touch', '$marker'], {})\n",
    "posixsubprocess_fork": WRONG + r"""
import subprocess
subprocess._USE_POSIX_SPAWN = subprocess._USE_VFORK = False  # a plain fork, in _posixsubprocess's C code
subprocess.Popen(['/usr/bin/touch', '$marker'])
""",
    "subinterpreter": WRONG + r"""
import _xxsubinterpreters as interpreters
interpreters.run_string(interpreters.create(), "import os; os.system('touch $marker'); open('$marker', 'w')")
""",
    "renamed_extension_module": WRONG + r"""
import _posixsubprocess, shutil, importlib.machinery, importlib.util
shutil.copy(_posixsubprocess.__file__, 'renamed.so')
loader = importlib.machinery.ExtensionFileLoader('_posixsubprocess', 'renamed.so')
loader.exec_module(importlib.util.module_from_spec(importlib.util.spec_from_loader('_posixsubprocess', loader)))
import os
os.system('touch $marker')
""",
    "ctypes_system_calls": WRONG + r"""
import ctypes
libc = ctypes.CDLL(None)
print(libc.system(b'touch $marker'))
print(libc.syscall(57), libc.syscall(56, 17, 0, 0, 0, 0), libc.syscall(272, 0x10000000))  # fork, clone, unshare
""",
    "plant_pth": WRONG + r"""
for folder in ('$site', '.'):
    try:
        open(folder + '/zz_nanophi_attack.pth', 'w').write('import os; os.system("touch $marker")')
    except OSError as e:
        print(e)
""",
    "loopback_connect": WRONG + r"""
import socket
for host in ('127.0.0.1', '::1', 'localhost'):
    try:
        socket.create_connection((host, $port), timeout=1).sendall(b'leak')
    except OSError as e:
        print(e)
""",
    "abstract_unix_socket": WRONG + r"""
import socket
try:
    socket.socket(socket.AF_UNIX).connect('\0/tmp/.X11-unix/X0')
except OSError as e:
    print(e)
""",
}
EVALUATOR_ATTACKS = {
    "signal_evaluator_by_pid": WRONG + r"""
import os, signal
for sig in (signal.SIGUSR1, signal.SIGSTOP):
    try:
        os.kill($evaluator, sig)
    except OSError as e:
        print(e)
""",
    "signal_everyone": WRONG + r"""
import os, signal
for sig in (signal.SIGUSR1, signal.SIGKILL):
    try:
        os.kill(-1, sig)
    except OSError as e:
        print(e)
""",
    "kill_parent_and_init": WRONG + r"""
import os, signal
for pid in (os.getppid(), 1):
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        try:
            os.kill(pid, sig)
        except OSError as e:
            print(e)
""",
    "pidfd_signal": WRONG + r"""
import os, signal
for pid in ($evaluator, os.getppid(), 1):
    try:
        signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGUSR1)
    except OSError as e:
        print(e)
""",
    "sigio_owner": WRONG + r"""
import fcntl, os
for fd in range(256):
    for owner in ($evaluator, 1, -1):
        try:
            fcntl.fcntl(fd, fcntl.F_SETOWN, owner)
            fcntl.fcntl(fd, fcntl.F_SETSIG, 10)
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_ASYNC | os.O_NONBLOCK)
        except OSError:
            pass
""",
    "kill_siblings": WRONG + r"""
import os, signal
for pid in range(2, 4096):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
""",
    "stop_process_group": "    import os, signal\n    os.killpg(0, signal.SIGSTOP)\n    return a + b\n",
    "setsid_grandchild": WRONG + r"""
import os, time
try:
    if os.fork() == 0:
        os.setsid()
        time.sleep(100)
except OSError as e:
    print(e)
""",
    "daemon_thread": WRONG + r"""
import threading, time
try:
    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()
except RuntimeError as e:
    print(e)
""",
    "deep_nested_immutable_files": WRONG + r"""
import os, fcntl, struct
for _ in range(2000):
    os.mkdir('d')
    os.chdir('d')
open('f', 'w').write('x')
try:
    fcntl.ioctl(os.open('f', os.O_RDONLY), 0x40086602, struct.pack('l', 0x10))  # FS_IOC_SETFLAGS immutable
except OSError as e:
    print(e)
os.chmod('.', 0)
""",
    "lower_fd_limits": WRONG + r"""
import resource
for pid in ($evaluator, 1, 0):
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3))
    except OSError as e:
        print(e)
""",
    "affinity_and_priority": WRONG + r"""
import os
for pid in ($evaluator, 1, 0):
    try:
        os.sched_setaffinity(pid, {0})
    except OSError as e:
        print(e)
for which, who in ((os.PRIO_USER, 0), (os.PRIO_PGRP, 0), (os.PRIO_PROCESS, $evaluator)):
    try:
        os.setpriority(which, who, 19)
    except OSError as e:
        print(e)
""",
    "close_every_fd": "    import os\n    os.closerange(3, 4096)\n    return a + b\n",
}
LIMITS = {
    "memory_bomb": WRONG + "x = bytearray(4 << 30)\n",
    "memfd": WRONG + "import os\ntry:\n    os.memfd_create('x')\nexcept OSError as e:\n    print('memfd', e)\n",
    "shared_memory": WRONG + r"""
import ctypes
libc = ctypes.CDLL(None)
print('shmget', libc.shmget(0, 1 << 30, 0o1600), 'msgget', libc.msgget(0, 0o1600))
try:
    open('/dev/shm/x', 'wb').write(b'x' * (1 << 20))
except OSError as e:
    print(e)
""",
    "pipe_and_socket_buffers": WRONG + r"""
import os, fcntl, socket
held = 0
try:
    while True:
        r, w = os.pipe()
        os.set_blocking(w, False)
        try:
            fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
        except OSError:
            pass
        try:
            while True:
                held += os.write(w, b'x' * 65536)
        except BlockingIOError:
            pass
except OSError:
    pass
try:
    while True:
        a, b = socket.socketpair()
        a.setblocking(False)
        try:
            while True:
                held += a.send(b'x' * 65536)
        except BlockingIOError:
            pass
except OSError:
    pass
print('held', held)
""",
    "many_big_files": WRONG + r"""
written = 0
for folder in ('.', '/', '/dev', '/dev/shm'):
    for i in range(64):
        try:
            with open(f'{folder}/big{i}', 'wb') as f:
                for _ in range(8):
                    written += f.write(b'x' * (1 << 20))
        except OSError:
            break
print('written', written)
""",
    "huge_output": WRONG + r"""
import sys
try:
    while True:
        sys.stdout.write('y' * 65536)
except OSError as e:
    print(e, file=sys.stderr)
""",
    "infinite_loop_in_candidate": "    while True:\n        pass\n",
}
OLD_ATTACKS = {  # the rest of what the previous, in-process sandbox was tested against
    "old_kill_parent": WRONG + "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)\n",
    "old_import_ctypes": WRONG + "import ctypes\n",
    "old_import_posixsubprocess": WRONG + "import _posixsubprocess\n",
    "old_raise_rlimit": WRONG + "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n",
    "old_socket": WRONG + "import socket\nsocket.create_connection(('127.0.0.1', 9))\n",
    "old_signal_thief": WRONG + r"""
import signal, time
def handler(signum, frame):
    while frame is not None:
        frame.f_globals['check'] = lambda c: None
        frame = frame.f_back
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.001)
time.sleep(0.1)
""",
}
ATTACKS = {**FAKED_PASSES, **ESCAPES, **EVALUATOR_ATTACKS, **LIMITS, **OLD_ATTACKS}
SECRET_NAME, SECRET = "NANOPHI_TEST_SECRET", "s3cr3t-" + os.urandom(8).hex()
PR_SET_CHILD_SUBREAPER = 36


def _state():
    """What an attack on the evaluator would change."""
    limits = {name: resource.getrlimit(getattr(resource, name)) for name in ("RLIMIT_NOFILE", "RLIMIT_NPROC")}
    return limits, os.sched_getaffinity(0), os.getpriority(os.PRIO_PROCESS, 0)


def _descendants():
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _reap_zombies():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Run every attack once, each after a correct sample, and record the world before and after."""
    # These programs signal every process they can and kill pids at random: only ever run them isolated.
    probe = run_program(f"import os\ntry:\n    os.kill({os.getpid()}, 0)\nexcept OSError:\n    print('unseen')\n")
    if probe.stdout != "unseen\n":
        pytest.fail(f"the sandbox can see this process, so the hostile batch is not run: {probe}")
    outside = tmp_path_factory.mktemp("outside")
    keep, marker = outside / "keep.txt", outside / "marker"
    keep.write_text("precious")
    site = sysconfig.get_paths()["purelib"]
    site_before = sorted(os.listdir(site))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    received = []
    old_handler = signal.signal(signal.SIGUSR1, lambda *_: received.append("SIGUSR1"))
    os.environ[SECRET_NAME] = SECRET
    libc = ctypes.CDLL(None)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans come to this process, where they can be seen
    before = _state()
    already_running = set(_descendants())  # other tests' long-lived helpers (e.g. multiprocessing's trackers)
    values = dict(keep=keep, dir=outside, marker=marker, evaluator=os.getpid(), port=listener.getsockname()[1],
                  site=site)
    samples, names = [], []
    for name, attack in ATTACKS.items():
        (prompt, test, entry_point), completion = attack if type(attack) is tuple else ((PROMPT, TEST, "add"), attack)
        samples += [dict(prompt=PROMPT, completion=RIGHT, test=TEST, entry_point="add"),
                    dict(prompt=prompt, completion=Template(completion.lstrip("\n")).substitute(values), test=test,
                         entry_point=entry_point)]
        names += ["right", name]
    try:
        start = time.monotonic()
        results = check_many(samples, timeout=3, workers=4)
        seconds = time.monotonic() - start
        time.sleep(0.2)  # for a signal in flight
        after = _state()
        for _ in range(50):  # bubblewrap's init dies a moment after bubblewrap: give it that moment
            _reap_zombies()
            lingering = [pid for pid in _descendants() if pid not in already_running]
            if not lingering:
                break
            time.sleep(0.1)
        try:
            connection = listener.accept()
        except BlockingIOError:
            connection = None
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        del os.environ[SECRET_NAME]
        signal.signal(signal.SIGUSR1, old_handler)
        listener.close()
    return dict(results={n: r for n, r in zip(names, results) if n != "right"},
                right=[r for n, r in zip(names, results) if n == "right"], seconds=seconds, keep=keep,
                outside=outside, site=site, site_before=site_before, received=received, connection=connection,
                before=before, after=after, lingering=lingering)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_no_attack_passes_or_leaks(batch, name):
    result = batch["results"][name]
    assert not result.passed, (name, result)
    assert SECRET not in result.stdout + result.stderr
    assert "precious" not in result.stdout  # the canary's contents


def test_every_correct_sample_next_to_an_attack_still_passes(batch):
    assert all(r.passed for r in batch["right"]), [r for r in batch["right"] if not r.passed]


def test_nothing_outside_changed(batch):
    assert batch["keep"].read_text() == "precious"
    assert sorted(os.listdir(batch["outside"])) == ["keep.txt"]  # no marker: nothing was started that made it
    assert sorted(os.listdir(batch["site"])) == batch["site_before"]


def test_the_evaluator_is_untouched(batch):
    assert batch["received"] == []  # no signal reached it
    assert batch["connection"] is None  # nothing reached its loopback listener
    assert batch["before"] == batch["after"]  # limits, CPU affinity, priority


def test_no_process_is_left(batch):
    assert batch["lingering"] == []


def test_the_batch_is_quick(batch):
    # the samples that hang end at their 3 s timeout; everything else in well under a second
    assert batch["seconds"] < 45


def test_each_layer_did_its_part(batch):
    results = batch["results"]
    # the system-call filter: no process, no thread, no memory outside the address space, no network
    for name in ("fork", "posix_spawn", "subprocess", "posixsubprocess_fork"):
        assert "PermissionError: [Errno 1] Operation not permitted" in results[name].stderr, name
    assert "Operation not permitted" in results["setsid_grandchild"].stdout
    assert "can't start new thread" in results["daemon_thread"].stdout
    assert "memfd [Errno 1] Operation not permitted" in results["memfd"].stdout
    assert "shmget -1 msgget -1" in results["shared_memory"].stdout
    assert results["loopback_connect"].stdout.count("Operation not permitted") == 2
    held = int(results["pipe_and_socket_buffers"].stdout.split("held")[1].split()[0])
    assert held <= 64 * 256 << 10  # 64 descriptors' worth of default-sized buffers, not gigabytes
    # the mounts: what is outside is not there; the one writable place is small
    assert "No such file or directory" in results["read_canary"].stderr
    assert "Read-only file system" in results["plant_pth"].stdout
    assert int(results["many_big_files"].stdout.split("written")[1].split()[0]) <= SCRATCH_BYTES
    # the resource limits and the parent
    assert "MemoryError" in results["memory_bomb"].stderr
    assert "File too large" in results["huge_output"].stderr
    assert len(results["huge_output"].stdout) <= OUTPUT_KEPT_BYTES + 100
    for name in ("sigstop_self", "stop_process_group", "infinite_loop_in_candidate"):
        assert results[name].status == "timeout", name
    # the plain-data wire
    assert "is not plain data" in results["always_equal"].stderr
    assert "the program's answer was refused" in results["garbage_reply"].stderr
