"""Whether this host can run the datapath the agent is configured for.

``datapath_type = system`` needs the kernel's openvswitch module: without it
ovs-vswitchd accepts the bridges but can open none of them, and every port
stays dead without an error anywhere near the agent. ``netdev`` (userspace)
needs nothing from the kernel. ``check`` turns the first case into one clear
message at start-up.
"""
import os


class DatapathUnavailable(RuntimeError):
    """The configured datapath cannot work on this host; the message says what to do."""


def kernel_module_available(name="openvswitch", sys_root="/sys/module", module_roots=("/lib/modules",
                                                                                          "/usr/lib/modules")):
    """Loaded or built in (a /sys/module entry), or a module file modprobe could load."""
    if os.path.isdir(os.path.join(sys_root, name)):
        return True
    release = os.uname().release
    for root in module_roots:
        folder = os.path.join(root, release, "kernel", "net", name)
        if os.path.isdir(folder) and any(entry.startswith(name + ".ko") for entry in os.listdir(folder)):
            return True
    return False


def check(datapath_type, module_available=None):
    """Raise DatapathUnavailable when ``datapath_type`` cannot carry packets here."""
    if datapath_type != "system":
        return
    available = kernel_module_available() if module_available is None else module_available
    if not available:
        raise DatapathUnavailable(
            "[ovs] datapath_type = system needs the openvswitch kernel module, which this kernel "
            "(%s) neither has loaded nor can load: set datapath_type = netdev to use the userspace "
            "datapath" % os.uname().release)
