"""A pure diff between the chains an agent owns in one iptables table and the ones it wants.

Agents that keep their rules in chains of their own (the firewall's
``neutron-linuxbri-*``, the L3 agent's ``neutron-l3-agent-*``) describe a
table as ``{chain: (rule body, ...)}`` plus the jumps from the built-in chains
(``((built-in chain, target), ...)``). ``parse_save`` reads the owned part of
``iptables-save`` output into that shape; ``table_restore`` plans the lines of
an ``iptables-restore --noflush`` input that turn one into the other: only
chains whose rules differ are declared (which flushes them under --noflush)
and refilled, chains no longer wanted are flushed and deleted in the same
transaction, and nothing outside the owned chains is touched except
re-inserting the hooks of a built-in chain whose jumps are not exactly the
wanted ones. Equal inputs give no lines: a resync that changes nothing runs
nothing.
"""
import dataclasses


@dataclasses.dataclass
class TableState:
    """Owned chains of one table ({chain: (rule body, ...)}) and the hooks found."""
    chains: dict = dataclasses.field(default_factory=dict)
    hooks: tuple = ()            # ((built-in chain, target), ...) present, in kernel order


def _unchanged(body):
    return body


def parse_save(text, table, owns, hook_targets=(), canonical=_unchanged):
    """The owned part of ``table`` in ``iptables-save`` output as a TableState.

    ``owns(chain)`` says whether a chain is the caller's; ``hook_targets`` are the
    owned chains jumped to from built-in chains; ``canonical(body)`` rewrites a
    rule as iptables-save prints it into the caller's spelling.
    """
    state, current = TableState(), None
    hooks = []
    for line in text.splitlines():
        if line.startswith("*"):
            current = line[1:].strip()
            continue
        if current != table:
            continue
        if line.startswith(":"):
            chain = line[1:].split()[0]
            if owns(chain):
                state.chains.setdefault(chain, ())
        elif line.startswith("-A "):
            chain, _, body = line[3:].partition(" ")
            if owns(chain):
                state.chains[chain] = state.chains.get(chain, ()) + (canonical(body),)
            elif body.startswith("-j ") and body[3:].strip() in hook_targets:
                hooks.append((chain, body[3:].strip()))
    state.hooks = tuple(hooks)
    return state


def table_restore(table, previous, desired_chains, desired_hooks):
    """Lines of one table's part of an iptables-restore --noflush input, or [] when equal."""
    changed = [chain for chain in sorted(desired_chains) if previous.chains.get(chain) != desired_chains[chain]
               or chain not in previous.chains]
    removed = [chain for chain in sorted(previous.chains) if chain not in desired_chains]
    hook_fix = hook_lines(previous.hooks, desired_hooks)
    if not changed and not removed and not hook_fix:
        return []
    lines = ["*" + table]
    lines += [":%s - [0:0]" % chain for chain in changed + removed]
    lines += hook_fix
    for chain in changed:
        lines += ["-A %s %s" % (chain, body) for body in desired_chains[chain]]
    lines += ["-X %s" % chain for chain in removed]
    lines.append("COMMIT")
    return lines


def hook_lines(present, desired):
    """Re-insert the hooks of any built-in chain whose jumps are not exactly the desired ones."""
    lines = []
    for builtin in dict.fromkeys(chain for chain, _ in desired):
        want = [target for chain, target in desired if chain == builtin]
        have = [target for chain, target in present if chain == builtin]
        if have == want:
            continue
        lines += ["-D %s -j %s" % (builtin, target) for target in have]
        lines += ["-I %s %d -j %s" % (builtin, position, target) for position, target in enumerate(want, 1)]
    return lines


def restore_text(previous_tables, desired_tables, hooks):
    """{table: TableState} + {table: chains} -> one restore text for every table, or None when
    nothing changed."""
    lines = []
    for table in sorted(desired_tables):
        lines += table_restore(table, previous_tables.get(table) or TableState(), desired_tables[table],
                               hooks.get(table, ()))
    return "\n".join(lines) + "\n" if lines else None
