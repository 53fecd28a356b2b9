"""What the private database servers (PostgreSQL, MariaDB) share when they start.

Both refuse to run as root, so as root they run as their Debian package's
system account; that account must reach and own the folders made for it; and
a port picked as free can be taken before the server binds it.
"""
import os
import pwd
import stat

from harness.processes import ProcessDied, free_tcp_port


def service_account(name, package, unavailable):
    """The account to run the server as: None for ourselves, ``name`` as root.

    Raises ``unavailable`` (an exception class) when root has no such account."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise unavailable(
            f"running as root but there is no '{name}' user to run the server "
            f"as (the Debian {package} package creates it)") from None
    return name


def prepare_folders(base_dir, user, folders, unavailable):
    """Make ``folders`` (mode 0700) and hand them and ``base_dir`` to ``user``.

    The account must be able to walk down to ``base_dir``: ``unavailable`` is
    raised when a folder above it is not searchable by others."""
    if user is not None:
        path = os.path.abspath(base_dir)
        while path != os.path.dirname(path):
            path = os.path.dirname(path)
            if not os.stat(path).st_mode & stat.S_IXOTH:
                raise unavailable(
                    f"{path} is not searchable by others, so the '{user}' user "
                    "cannot reach a data folder below it; pick another tmpdir")
    for folder in folders:
        os.mkdir(folder, 0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        for folder in (base_dir, *folders):
            os.chown(folder, entry.pw_uid, entry.pw_gid)


def start_on_a_free_port(server, port, timeout, bind_failure):
    """``server._start(port, timeout)`` on ``port``, or on a free one retried
    up to three times while the log's tail holds ``bind_failure``."""
    for attempt in range(3):
        try:
            server._start(port or free_tcp_port(), timeout)
            return
        except ProcessDied:
            server.process.stop()
            bind_failed = bind_failure in server.process.log_tail(20)
            if port is not None or not bind_failed or attempt == 2:
                raise
