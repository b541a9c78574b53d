"""Claims on outputs: one holder at a time, released on exit or error, stale ones taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from irestore.io.claims import OutputClaimedError, claim_output, claim_path


def holders(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_one_holder_at_a_time_and_released_on_exit(tmp_path):
    output = tmp_path / "a.png"
    with claim_output(output):
        assert holders(tmp_path) == [".a.png.irestore-claim"]
        assert claim_path(output).read_text() == f"{os.getpid()} {socket.gethostname()}\n"
    assert holders(tmp_path) == []
    with pytest.raises(KeyboardInterrupt), claim_output(output):
        raise KeyboardInterrupt
    assert holders(tmp_path) == []


def test_a_live_holder_keeps_its_claim(tmp_path):
    output = tmp_path / "a.png"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        claim_path(output).write_text(f"{sleeper.pid} {socket.gethostname()}\n")
        with pytest.raises(OutputClaimedError, match=f"pid {sleeper.pid} on"):
            claim_output(output)
    finally:
        sleeper.kill()
        sleeper.wait()
    with claim_output(output):  # now dead: stale, taken over
        assert claim_path(output).read_text().startswith(f"{os.getpid()} ")


def test_claims_from_other_hosts_and_half_written_ones_hold(tmp_path):
    output = tmp_path / "a.png"
    claim_path(output).write_text("4242 some-other-host\n")
    with pytest.raises(OutputClaimedError, match="pid 4242 on some-other-host"):
        claim_output(output)
    claim_path(output).write_text("")
    with pytest.raises(OutputClaimedError, match="claim being written"):
        claim_output(output)
    os.utime(claim_path(output), (0, 0))  # empty for decades: its writer died before writing
    with claim_output(output):
        pass


def test_our_own_pid_in_a_claim_we_do_not_hold_is_stale(tmp_path):
    """Containers reuse PIDs across runs; a claim naming us that we never made is a leftover."""
    output = tmp_path / "a.png"
    claim_path(output).write_text(f"{os.getpid()} {socket.gethostname()}\n")
    with claim_output(output) as claim:
        assert claim.path.exists()
    assert holders(tmp_path) == []


def test_release_leaves_someone_elses_claim_alone(tmp_path):
    output = tmp_path / "a.png"
    claim = claim_output(output)
    claim_path(output).write_text("1 elsewhere\n")
    claim.release()
    assert claim_path(output).read_text() == "1 elsewhere\n"
