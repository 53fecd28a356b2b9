"""OpenFlow flows as values: render them for ``ovs-ofctl``, compare them with a dump.

A ``Flow`` renders in the notation ``ovs-ofctl dump-flows --names`` prints over
OpenFlow 1.0 (the book's notation), e.g.

    table=24, priority=2,arp,in_port="tap6c15d7b8-87",arp_spa=192.168.0.6 actions=resubmit(,25)

``ovs-ofctl`` reads that notation back from a flow file. ``canonical`` reduces a
rendered or dumped line to what identifies the flow (table, priority, the set of
match fields, actions, cookie, timeouts), dropping counters, ages, quoting and
spacing, so an installed table equals the desired one exactly when nothing has
to change.

Ownership: every flow the agent installs carries the agent's cookie for that
bridge (``agent_cookie``). A flow's identity on the switch is its key
(table, priority, match); a key holding the agent's cookie is the agent's, and
only those are ever modified or deleted. Flows with any other cookie (table
10's learned flows, another program's) are left alone.
"""
import dataclasses
import functools
import hashlib
import re

from netweave.mechanism_drivers.openvswitch import constants as c

# Fields of a dump line that describe the flow's life, not the flow.
_STATISTICS = frozenset(("duration", "n_packets", "n_bytes", "idle_age", "hard_age"))
# Fields that belong to the flow but are not match fields.
_FLOW_ATTRS = frozenset(("cookie", "table", "priority", "idle_timeout", "hard_timeout", "importance"))
_FLAGS = frozenset(("send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
                    "no_byte_counts"))
DEFAULT_PRIORITY = 32768


@dataclasses.dataclass(frozen=True, order=True)
class Flow:
    table: int
    priority: int
    match: tuple = ()
    actions: str = "drop"
    cookie: int = 0

    def render(self):
        head = "table=%d, priority=%d" % (self.table, self.priority)
        if self.cookie:
            head = "cookie=%#x, %s" % (self.cookie, head)
        fields = "".join("," + m for m in self.match)
        return "%s%s actions=%s" % (head, fields, self.actions)

    def __str__(self):
        return self.render()


def agent_cookie(host, bridge):
    """The cookie of the agent of ``host`` on ``bridge``.

    Derived from the two names, so it is the same after every restart: a
    restarted agent recognises the flows it installed before (and keeps them,
    with their counters, when they are still wanted) without any state of its
    own, and two agents sharing a switch never take each other's flows. It is
    never 0 (what flows installed without a cookie have), never the learned
    flows' cookie and never the all-ones value OpenFlow reserves.

    Neutron picks a random cookie at each start and, after the first full
    sync, deletes the flows of its earlier cookies; a derived cookie needs no
    such sweep (and no flow is rewritten at a restart). What it leaves behind:
    flows of a renamed host's old cookie, and flows an agent from before
    cookies installed (cookie 0) under keys it no longer wants (those it
    still wants are taken over by the first pass's adds).
    """
    digest = hashlib.sha256(("netweave-ovs-agent\0%s\0%s" % (host, bridge)).encode()).digest()
    # 0x6e77 ("nw") marks netweave's cookies; the rest comes from the names.
    cookie = (0x6E77 << 48) | int.from_bytes(digest[:6], "big")
    if cookie == c.LEARNED_FLOW_COOKIE:
        cookie ^= 1
    return cookie


def in_port(name):
    return 'in_port="%s"' % name


def output(name):
    return 'output:"%s"' % name


def render_table(flows):
    """Flow file text for ``ovs-ofctl replace-flows``: one flow a line, sorted."""
    return "".join(f.render() + "\n" for f in sorted(flows, key=_sort_key))


def _sort_key(flow):
    # ovs-ofctl --rsort order: highest priority first, then table.
    return (-flow.priority, flow.table, flow.match, flow.actions)


@dataclasses.dataclass(frozen=True, order=True)
class CanonicalFlow:
    table: int
    priority: int
    match: tuple
    actions: str
    cookie: int
    idle_timeout: int
    hard_timeout: int


def canonical(line):
    """CanonicalFlow of a rendered or dumped flow line; None for a line that holds no flow."""
    line = line.strip()
    if not line or " actions=" not in line and not line.startswith("actions="):
        return None
    if line.startswith("actions="):
        head, actions = "", line[len("actions="):]
    else:
        head, _, actions = line.partition(" actions=")
    attrs = {"table": 0, "priority": DEFAULT_PRIORITY, "cookie": 0,
             "idle_timeout": 0, "hard_timeout": 0}
    match = []
    # Match fields never hold commas (actions, which may, come after " actions=").
    for token in head.split(","):
        token = token.strip()
        if not token:
            continue
        key, sep, value = token.partition("=")
        key = key.strip()
        value = value.strip().replace('"', "")
        if key in _STATISTICS or key in _FLAGS or key == "importance":
            continue
        if key in _FLOW_ATTRS and sep:
            attrs[key] = int(value.split("/")[0], 0)
            continue
        match.append(key + ("=" + value if sep else ""))
    return CanonicalFlow(table=attrs["table"], priority=attrs["priority"],
                         match=tuple(sorted(match)),
                         actions=_canonical_actions(actions),
                         cookie=attrs["cookie"], idle_timeout=attrs["idle_timeout"],
                         hard_timeout=attrs["hard_timeout"])


def _canonical_actions(actions):
    text = re.sub(r"\s+", "", actions.replace('"', ""))
    return text or "drop"


@functools.lru_cache(maxsize=1 << 16)
def _canonical_flow(flow):
    return canonical(flow.render())


def iter_canonical(items, ignore_cookies=(c.LEARNED_FLOW_COOKIE,)):
    """Canonical flows of dump lines, rendered lines, Flow or CanonicalFlow objects, in their
    order, leaving out learned flows."""
    for item in items:
        if isinstance(item, CanonicalFlow):
            flow = item
        elif isinstance(item, Flow):
            flow = _canonical_flow(item)
        else:
            flow = canonical(item)
        if flow is not None and flow.cookie not in ignore_cookies:
            yield flow


def canonical_table(items, ignore_cookies=(c.LEARNED_FLOW_COOKIE,)):
    """Sorted canonical flows of dump lines, rendered lines, Flow or CanonicalFlow objects,
    leaving out learned flows."""
    return sorted(iter_canonical(items, ignore_cookies))


def key(flow):
    """What names a flow on a switch: (table, priority, match) of a CanonicalFlow."""
    return (flow.table, flow.priority, flow.match)


def canonical_flow(flow):
    """CanonicalFlow of a Flow (cached: the same flows are compared pass after pass)."""
    return _canonical_flow(flow)


def owned_table(flows, cookie):
    """Sorted canonical flows of ``flows`` (Flow objects) as installed with ``cookie``."""
    result = []
    for flow in flows:
        one = _canonical_flow(flow)
        result.append(CanonicalFlow(one.table, one.priority, one.match, one.actions, cookie,
                                    one.idle_timeout, one.hard_timeout))
    result.sort()
    return result


def same_treatment(installed, wanted):
    """True when two CanonicalFlows of one key do the same (actions and timeouts; cookies aside)."""
    return (installed.actions, installed.idle_timeout, installed.hard_timeout) == (
        wanted.actions, wanted.idle_timeout, wanted.hard_timeout)


def match_text(flow):
    """The match of a CanonicalFlow as ovs-ofctl reads it (port names need no quotes)."""
    return "table=%d, priority=%d%s" % (flow.table, flow.priority, "".join("," + m for m in flow.match))


def tables_equal(desired_flows, installed):
    """True when a bridge holding ``installed`` (dump lines or canonical flows) already
    holds exactly ``desired_flows`` (Flow objects)."""
    return canonical_table(desired_flows) == canonical_table(installed)
