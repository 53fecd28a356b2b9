"""haproxy's ``show stat`` CSV read into what the server wants: member operating statuses, the
load balancer's counters and each listener's (spec A.5's mapping). Pure functions."""
import csv
import io

# haproxy status -> operating status of a member.
_MEMBER_STATUS = {"UP": "ONLINE", "DOWN": "OFFLINE", "MAINT": "OFFLINE", "NOLB": "OFFLINE", "no check": "NO_MONITOR"}
_COUNTERS = {"scur": "active_connections", "stot": "total_connections", "bin": "bytes_in", "bout": "bytes_out",
             "ereq": "request_errors"}


def parse(text):
    """Rows of ``show stat`` as dicts (the header line starts with "# ")."""
    text = text.lstrip("# ")
    return [row for row in csv.DictReader(io.StringIO(text)) if row.get("pxname")]


def _int(value):
    try:
        return int(value or 0)
    except ValueError:
        return 0


def member_statuses(rows):
    """{member id: ONLINE | OFFLINE | NO_MONITOR} from the server rows."""
    result = {}
    for row in rows:
        if row["svname"] in ("FRONTEND", "BACKEND"):
            continue
        status = row.get("status", "")
        # "UP 1/3" and "DOWN 1/2" are transitions: haproxy still counts the old state.
        word = status.split(" ")[0] if status not in _MEMBER_STATUS else status
        if status.startswith("no check"):
            word = "no check"
        result[row["svname"]] = _MEMBER_STATUS.get(word, "OFFLINE")
    return result


def _counters(row):
    return {name: _int(row.get(column)) for column, name in _COUNTERS.items()}


def listener_stats(rows):
    """{listener id: counters} from the frontends: haproxy_config names each frontend after its listener."""
    return {row["pxname"]: _counters(row) for row in rows if row["svname"] == "FRONTEND"}


def loadbalancer_stats(rows):
    """Counters summed over the frontends (one per listener)."""
    totals = dict.fromkeys(_COUNTERS.values(), 0)
    for counters in listener_stats(rows).values():
        for name, value in counters.items():
            totals[name] += value
    return totals


def tree_statuses(description, members):
    """Operating statuses of the whole tree from the members': a pool with some members down is
    DEGRADED, with all down ERROR; listeners and the load balancer follow their pools."""
    result = {"member": dict(members), "pool": {}, "listener": {}, "loadbalancer": {}}
    pool_status = {}
    for pool in description.get("pools", ()):
        states = [members.get(m["id"]) for m in pool.get("members", ()) if m.get("admin_state_up", True)]
        states = [s for s in states if s is not None]
        if states and all(s == "OFFLINE" for s in states):
            status = "ERROR"
        elif any(s == "OFFLINE" for s in states):
            status = "DEGRADED"
        else:
            status = "ONLINE"
        pool_status[pool["id"]] = result["pool"][pool["id"]] = status
    worst = "ONLINE"
    for listener in description.get("listeners", ()):
        status = pool_status.get(listener.get("default_pool_id"), "ONLINE")
        status = "DEGRADED" if status == "ERROR" else status
        result["listener"][listener["id"]] = status
        if status != "ONLINE":
            worst = "DEGRADED"
    result["loadbalancer"][description["id"]] = worst
    return result
