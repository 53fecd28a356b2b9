"""Which L2 agent netweave-all-in-one runs in its own process (pure: no kernel, no process)."""
import pytest
from oslo_config import cfg

from netweave.core.cmd import in_process_agent


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    in_process_agent.register_opts(conf)
    conf(args=[])
    return conf


def test_root_on_a_kernel_with_bridges_runs_linuxbridge(conf):
    name, why = in_process_agent.choose(conf, is_root=True, has_bridges=True)
    assert name == "linuxbridge" and "root" in why


def test_without_root_or_bridges_runs_none_and_says_why(conf):
    assert in_process_agent.choose(conf, is_root=False, has_bridges=True) == (
        "none", "not running as root (set l2_agent to choose one)")
    name, why = in_process_agent.choose(conf, is_root=True, has_bridges=False)
    assert name == "none" and "bridge" in why


@pytest.mark.parametrize("chosen", ["linuxbridge", "openvswitch", "none"])
def test_the_option_wins(conf, chosen):
    conf.set_override("l2_agent", chosen)
    assert in_process_agent.choose(conf, is_root=False, has_bridges=False)[0] == chosen


def test_unknown_agents_are_refused(conf):
    with pytest.raises(ValueError):
        conf.set_override("l2_agent", "macvtap")


def test_none_starts_nothing(conf):
    conf.register_opt(cfg.StrOpt("host", default="node1"))
    conf.set_override("l2_agent", "none")
    assert in_process_agent.start(conf) is None
