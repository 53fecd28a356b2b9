"""core.agent.commands: the argv it builds, and what it raises (real processes, no mocks)."""
import pytest

from netweave.core.agent import commands


def plain(program):
    return program


def test_plain_command_is_left_alone():
    assert commands.build_argv(["ip", "link", "show"], resolve=plain) == ["ip", "link", "show"]


def test_namespace_wraps_in_ip_netns_exec():
    assert commands.build_argv(["dhcp_release", "ns-1", "10.0.0.2"], namespace="qdhcp-x", resolve=plain) == [
        "ip", "netns", "exec", "qdhcp-x", "dhcp_release", "ns-1", "10.0.0.2"]


@pytest.mark.parametrize("program,option", [
    ("iptables", "-w"), ("ip6tables", "-w"), ("iptables-restore", "-w"), ("ip6tables-restore", "-w"),
    ("ebtables", "--concurrent"), ("/usr/sbin/iptables-restore", "-w"),
])
def test_xtables_programs_wait_for_the_lock(program, option):
    assert commands.build_argv([program, "--noflush"], resolve=plain) == [program, option, "--noflush"]


def test_lock_option_inside_the_namespace():
    assert commands.build_argv(["iptables-restore", "--noflush"], namespace="h1", resolve=plain) == [
        "ip", "netns", "exec", "h1", "iptables-restore", "-w", "--noflush"]


@pytest.mark.parametrize("argv", [["iptables", "-w", "-L"], ["iptables", "--wait", "-L"],
                                  ["ebtables", "--concurrent", "-L"]])
def test_lock_option_not_doubled(argv):
    assert commands.build_argv(argv, resolve=plain) == argv


@pytest.mark.parametrize("program", ["iptables-save", "ip6tables-save", "ebtables-save", "ebtables-restore",
                                     "ipset", "conntrack"])
def test_programs_without_the_lock_option(program):
    assert commands.build_argv([program], resolve=plain) == [program]


def test_lock_can_be_turned_off():
    assert commands.build_argv(["iptables", "-L"], xtables_lock=False, resolve=plain) == ["iptables", "-L"]


def test_arguments_become_strings():
    assert commands.build_argv(["ip", "link", "set", "mtu", 1450], resolve=plain)[-1] == "1450"


def test_empty_argv_is_refused():
    with pytest.raises(ValueError):
        commands.build_argv([])


def test_programs_are_found_in_sbin():
    assert commands.build_argv(["ip"])[0].endswith("/ip")
    assert commands.which("/bin/true") == "/bin/true"


def test_run_returns_output_and_feeds_stdin():
    result = commands.run(["cat"], stdin="hello\n")
    assert (result.returncode, result.stdout, result.ok) == (0, "hello\n", True)


def test_failure_carries_argv_code_and_output():
    with pytest.raises(commands.CommandError) as caught:
        commands.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    error = caught.value
    assert error.argv[-1] == "echo out; echo err >&2; exit 3"
    assert (error.returncode, error.stdout, error.stderr) == (3, "out\n", "err\n")
    assert "failed (3): err" in str(error)


def test_no_check_returns_the_failure():
    result = commands.run(["sh", "-c", "exit 4"], check=False)
    assert (result.returncode, result.ok) == (4, False)
    assert isinstance(commands.error_of(result), commands.CommandError)


def test_timeout_and_missing_program_raise_command_error_even_without_check():
    with pytest.raises(commands.CommandError) as caught:
        commands.run(["sleep", "5"], timeout=0.2, check=False)
    assert caught.value.returncode is None and "timed out" in str(caught.value)
    with pytest.raises(commands.CommandError) as caught:
        commands.run(["/nonexistent/program"], check=False)
    assert caught.value.returncode is None


def test_run_all_runs_side_by_side_and_reports_each():
    results = commands.run_all({"a": ["cat"], "b": ["sh", "-c", "exit 2"]}, stdins={"a": "x"}, check=False)
    assert results["a"].stdout == "x" and results["b"].returncode == 2
    with pytest.raises(commands.CommandError) as caught:
        commands.run_all({"a": ["true"], "b": ["sh", "-c", "echo no >&2; exit 2"]})
    assert caught.value.stderr == "no\n"
