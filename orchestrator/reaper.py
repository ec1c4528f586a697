"""Run one command, then end every process it started, wherever they went (Linux).

`procs.spawn` starts agent commands and verification through this script. It makes itself a
child subreaper, so a descendant that leaves the process group or the session (`setsid cmd &`,
a double fork) is re-parented to it instead of to init, and when the command exits, or sdd
asks it to stop (SIGTERM, also sent by the kernel if sdd dies), it kills every descendant that
is left before it exits with the command's status. Standard library only, no sdd imports: it
runs as `python -I -S reaper.py PARENT_PID -- ARGV...`, once per command, so its imports are
the cheapest that do the job (`_signal` without the `signal` module's enums: half the start-up).
"""

import ctypes
import os
import sys
import time

TYPE_CHECKING = False  # typing itself costs more to import than this whole script
if TYPE_CHECKING:
    import signal
else:
    import _signal as signal

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Stop(Exception):
    pass


def _children(me: int) -> list[tuple[int, bytes]]:
    """(pid, state) of every process whose parent is `me`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append((int(name), fields[0]))
    return found


def sweep(deadline: float = 10.0) -> None:
    """Kill and reap every descendant: each killed one's children come back to us."""
    me, end = os.getpid(), time.monotonic() + deadline
    while time.monotonic() < end:
        try:  # reap first: no child left (the usual case) ends it without reading /proc
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return
        for pid, state in _children(me):
            if state != b"Z":
                try:  # noqa: SIM105 (contextlib is one import more at every start)
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.005)


def _start(command: list[str]) -> int:
    """fork and exec `command` (the subprocess module costs a start-up this cannot afford)."""
    pid = os.fork()
    if pid == 0:
        for signo in _SIGNALS:
            signal.signal(signo, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:  # say so as bash would
            os.write(2, f"{command[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    return pid


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[2:]
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # sdd died before we could ask to hear of it
        return 137

    def stop(signo: int, frame: object) -> None:
        raise _Stop

    for signo in _SIGNALS:
        signal.signal(signo, stop)
    code = 137
    try:
        pid = _start(command)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        code = 128 - code if code < 0 else code
    except _Stop:
        pass
    finally:
        for signo in _SIGNALS:
            signal.signal(signo, signal.SIG_IGN)
        sweep()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
