"""Working inside a named network namespace from one thread of the agent, without a process.

Linux keeps the network namespace per thread: ``entered(namespace)`` moves the
calling thread into /run/netns/<namespace> for the ``with`` block and back
after it. What is opened inside belongs to that namespace for good (a netlink
socket, a file under /proc/sys/net), and a process started inside runs there
(it inherits the thread's namespaces). That replaces a forked helper per
netlink socket (pyroute2's ``netns=``) and an ``ip netns exec`` per command,
which cost milliseconds each, with a few system calls.

    with netns.entered("qrouter-x"):
        ipr = IPRoute()                     # a socket in qrouter-x
    values = netns.read_sysctls("qrouter-x", ["net.ipv4.ip_forward"])
    result = netns.run("qrouter-x", ["iptables-save"])

Keep the blocks short and free of anything that might open sockets for the
agent itself (RPC, logging to the network): it would open them in the namespace.
"""
import contextlib
import ctypes
import os
import subprocess

from netweave.core.agent import commands

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
SYSCTL_DIR = "/proc/sys"

_libc = ctypes.CDLL(None, use_errno=True)


def path_of(namespace):
    return os.path.join(NETNS_DIR, namespace)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


@contextlib.contextmanager
def entered(namespace):
    """This thread in ``namespace`` for the block (None: where it is). FileNotFoundError when
    the namespace does not exist. Coming back cannot fail short of the kernel refusing a
    namespace the thread was just in; should it, the thread must not go on elsewhere."""
    if namespace is None:
        yield
        return
    target = os.open(path_of(namespace), os.O_RDONLY | os.O_CLOEXEC)
    try:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(own)
    finally:
        os.close(target)


def sysctl_path(key):
    """/proc/sys/... of a dotted sysctl key (device names here hold no dots)."""
    return os.path.join(SYSCTL_DIR, *key.split("."))


def read_sysctls(namespace, keys):
    """{key: value} of the ``keys`` that exist in ``namespace`` (as ``sysctl -e``: a missing
    one, such as a device's that is not there yet, is left out)."""
    values = {}
    with entered(namespace):
        for key in keys:
            try:
                with open(sysctl_path(key)) as handle:
                    values[key] = handle.read().strip()
            except FileNotFoundError:
                continue
    return values


def write_sysctls(namespace, values):
    """Write {key: value} in ``namespace``; returns [(key, error text)] of those that failed."""
    failed = []
    with entered(namespace):
        for key, value in values.items():
            try:
                with open(sysctl_path(key), "w") as handle:
                    handle.write(str(value))
            except OSError as error:
                failed.append((key, error.strerror or str(error)))
    return failed


def run(namespace, argv, stdin=None, check=True, timeout=commands.DEFAULT_TIMEOUT):
    """commands.run's contract (a Result; CommandError on failure with ``check``, and always
    when the command cannot start or times out), the process started from inside ``namespace``
    (no ``ip netns exec``)."""
    full = commands.build_argv(argv)
    try:
        with entered(namespace):
            process = subprocess.Popen(full, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise commands.CommandError(full, None, reason=str(exc)) from None
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise commands.CommandError(full, None, out, err, reason="timed out after %ss" % timeout) from None
    result = commands.Result(tuple(full), process.returncode, out, err)
    if check and not result.ok:
        raise commands.error_of(result)
    return result
