"""Counting the oslo.policy evaluations an Enforcer makes, for tests of what is remembered."""


def count_enforce(monkeypatch, enforcer):
    """The list every later ``enforcer.enforce`` call appends its rule name to (it still
    answers as before)."""
    calls = []
    original = enforcer.enforce

    def counting(rule, target, creds, *args, **kwargs):
        calls.append(rule)
        return original(rule, target, creds, *args, **kwargs)
    monkeypatch.setattr(enforcer, "enforce", counting)
    return calls
