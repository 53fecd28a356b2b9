"""Runs `openstack` commands in forked children of one warmed-up interpreter.

Started by harness/cli.py as ``python cli_zygote.py``. Starting the real CLI
costs about a second of CPU per command, nearly all of it importing
python-openstackclient and the ~1,000 command and formatter modules its
entry points name. This process pays that once: it imports them, then for
each request forks a child that runs ``openstackclient.shell.main(argv)``,
the function the ``openstack`` executable calls, with the request's
environment and its stdout/stderr going to the request's files. Every
command still runs in a process of its own, from the same pristine state.

Protocol (one JSON object per line on stdin; replies on stdout):
  request  {"argv": [...], "env": {...}, "stdout": path, "stderr": path}
  replies  "started <pid>" once the child is forked, then "exited <code>"
The process ends at end of input.
"""
import json
import os
import sys
import traceback
from importlib import metadata

from openstackclient import shell

# Entry point groups the CLI loads commands, auth plugins and formatters from.
WARM_GROUPS = ("openstack.", "cliff.", "keystoneauth1.")


def warm_up():
    """Import every module the CLI's entry points name (the slow part of a start)."""
    for dist in metadata.distributions():
        for entry_point in dist.entry_points:
            if entry_point.group.startswith(WARM_GROUPS):
                try:
                    entry_point.load()
                except Exception:  # noqa: BLE001 - a broken plugin is the child's to report
                    pass


def exit_code(value):
    """What sys.exit(value) makes the process's status."""
    if value is None:
        return 0
    return value if isinstance(value, int) else 1


def run_child(request, program):
    """In the forked child: become ``openstack <argv>`` and never return."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [program] + request["argv"]
        code = exit_code(shell.main(request["argv"]))
    except SystemExit as exc:
        code = exit_code(exc.code)
    except BaseException:  # noqa: BLE001 - reported on the command's stderr, as the CLI would
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def serve(program):
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            replies.close()
            run_child(request, program)
        replies.write("started %d\n" % pid)
        _, status = os.waitpid(pid, 0)
        replies.write("exited %d\n" % os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    warm_up()
    serve(sys.argv[1])
