"""The mechanism manager's hooks: every driver's own method, in order; precommit errors
propagate, postcommit errors are logged and the other drivers still run."""
import logging

import pytest

from netweave.core.plugins.ml2 import driver_api, managers

EVENTS = ["create_network", "update_network", "delete_network", "create_subnet", "update_subnet",
          "delete_subnet", "create_port", "update_port", "delete_port"]


class Recorder(driver_api.MechanismDriver):
    """Records each hook call; ``fail`` names hooks that raise."""

    def __init__(self, name, log, fail=()):
        self.name = name
        self.log = log
        self.fail = set(fail)

    def _record(self, hook, context):
        self.log.append((self.name, hook, context))
        if hook in self.fail:
            raise RuntimeError("%s failed in %s" % (self.name, hook))


for _event in EVENTS:
    for _phase in ("precommit", "postcommit"):
        def _hook(self, context, _name="%s_%s" % (_event, _phase)):
            self._record(_name, context)
        setattr(Recorder, "%s_%s" % (_event, _phase), _hook)


def _manager(*drivers):
    manager = managers.MechanismManager([])
    manager.drivers = [(d.name, d) for d in drivers]
    return manager


@pytest.mark.parametrize("hook", ["%s_%s" % (e, p) for e in EVENTS for p in ("precommit", "postcommit")])
def test_every_hook_calls_each_drivers_own_method_in_order(hook):
    log = []
    context = object()
    getattr(_manager(Recorder("a", log), Recorder("b", log)), hook)(context)
    assert log == [("a", hook, context), ("b", hook, context)]


def test_a_precommit_error_propagates_and_stops_the_later_drivers():
    log = []
    manager = _manager(Recorder("a", log, fail={"create_port_precommit"}), Recorder("b", log))
    with pytest.raises(RuntimeError, match="a failed in create_port_precommit"):
        manager.create_port_precommit("ctx")
    assert log == [("a", "create_port_precommit", "ctx")]


def test_a_postcommit_error_is_logged_and_the_others_still_run(caplog):
    log = []
    manager = _manager(Recorder("a", log, fail={"delete_network_postcommit"}), Recorder("b", log))
    with caplog.at_level(logging.ERROR):
        manager.delete_network_postcommit("ctx")
    assert log == [("a", "delete_network_postcommit", "ctx"), ("b", "delete_network_postcommit", "ctx")]
    assert "Mechanism driver 'a' failed in delete_network_postcommit" in caplog.text


def test_a_driver_without_an_override_gets_the_base_no_op(caplog):
    class Quiet(driver_api.MechanismDriver):
        pass

    manager = managers.MechanismManager([])
    manager.drivers = [("quiet", Quiet())]
    manager.update_subnet_precommit("ctx")
    with caplog.at_level(logging.ERROR):
        manager.update_subnet_postcommit("ctx")
    assert caplog.text == ""
