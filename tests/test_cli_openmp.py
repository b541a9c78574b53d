"""On a busy machine the CLI makes idle OpenMP threads sleep, before torch reads the policy (docs/speed.md)."""

import os
import subprocess
import sys

import pytest

from irestore.cli.main import main, wait_passively


def test_idle_threads_sleep_only_when_the_cores_are_busy_and_a_users_choice_is_kept():
    busy, quiet = {}, {}
    wait_passively(busy, load=2.2, cpus=2)
    wait_passively(quiet, load=0.3, cpus=2)
    assert busy == {"OMP_WAIT_POLICY": "PASSIVE"} and quiet == {}
    chosen = {"OMP_WAIT_POLICY": "ACTIVE"}
    wait_passively(chosen, load=8.0, cpus=2)
    assert chosen == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_main_decides_the_policy_from_the_load(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "unset after the test")
    monkeypatch.delenv("OMP_WAIT_POLICY")
    monkeypatch.setattr(os, "getloadavg", lambda: (64.0, 0.0, 0.0))
    monkeypatch.setattr(sys, "argv", ["irestore", "--help"])
    with pytest.raises(SystemExit):
        main()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_the_command_module_loads_without_torch_so_the_policy_is_set_in_time():
    code = "import sys, irestore.cli.main; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
