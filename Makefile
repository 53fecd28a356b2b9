# Developer entry points. Everything runs from the repository's .venv,
# which tools/install.sh creates and keeps in step with setup.cfg.
VENV := .venv
# Extra pytest arguments, e.g.  make test ARGS="tests/unit -x"
ARGS ?=

.PHONY: run test venv clean

venv:
	NETWEAVE_INSTALL=run bash tools/install.sh

# All-in-one server on 127.0.0.1:9696 with SQLite in ./state and no auth.
run: venv
	$(VENV)/bin/netweave-all-in-one --state-path ./state

test:
	bash tools/run-tests.sh $(ARGS)

# Removes the venv and build leftovers; the server's ./state is kept.
clean:
	rm -rf $(VENV) build dist .pytest_cache *.egg-info
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
