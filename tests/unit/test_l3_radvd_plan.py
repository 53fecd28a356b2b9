"""What the L3 agent does with a router's radvd: radvd.plan from the rendered text and the host's state."""
import pytest

from netweave.service_plugins.router.agent import applier, radvd

CONFIG = "interface qr-1eace53f-69\n{\n    AdvSendAdvert on;\n};\n"
OTHER = CONFIG.replace("on;", "on;\n    AdvManagedFlag on;")


@pytest.mark.parametrize("desired, state, action", [
    (CONFIG, radvd.ABSENT, radvd.START),                                        # first IPv6 interface
    (CONFIG, radvd.DaemonState(config=CONFIG, running=True), radvd.NONE),       # equal inputs
    (OTHER, radvd.DaemonState(config=CONFIG, running=True), radvd.RELOAD),      # a subnet added or changed
    (CONFIG, radvd.DaemonState(config=CONFIG, running=False), radvd.START),     # it died: respawned
    (OTHER, radvd.DaemonState(config=CONFIG, running=False), radvd.START),
    (CONFIG, radvd.DaemonState(config=None, running=True), radvd.RELOAD),       # its file went away
    (None, radvd.DaemonState(config=CONFIG, running=True), radvd.STOP),         # the last one went
    (None, radvd.DaemonState(config=CONFIG, running=False), radvd.STOP),        # a file left behind
    (None, radvd.DaemonState(config=None, running=True), radvd.STOP),
    (None, radvd.ABSENT, radvd.NONE),                                           # an IPv4-only router
])
def test_plan(desired, state, action):
    assert radvd.plan(desired, state) == action


def test_a_radvd_action_counts_as_a_change_of_the_pass():
    assert not applier.ApplyReport(router_id="r").changed
    assert not applier.ApplyReport(router_id="r", radvd=radvd.NONE).changed
    for action in (radvd.START, radvd.RELOAD, radvd.STOP):
        assert applier.ApplyReport(router_id="r", radvd=action).changed
