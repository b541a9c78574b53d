"""No machine's absolute path ships in the package or shows in any ``--help``.

Data is found through ``--data-dir``, ``$IRESTORE_DATA``, the per-user cache and (in a source
checkout) a computed sibling folder; a literal like ``/work/shared/datasets`` would work on one
machine only and leak its layout into every user's help text.
"""

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import irestore
from irestore.cli.main import app

PACKAGE = Path(irestore.__file__).resolve().parent
# An absolute POSIX path under a usual root (not preceded by a path character: "../shared" is fine),
# or a Windows drive path.
ABSOLUTE = re.compile(
    r"(?<![\w.~/-])/(?:work|home|root|tmp|Users|mnt|opt|srv|scratch|data|var|usr|media|Volumes)(?!\w)"
    r"|\b[A-Za-z]:[\\/]"
)


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


def test_every_command_is_walked():
    assert {"denoise", "sr", "jpeg", "deblur", "derain", "models", "eval", "train", "diagnose", "bench"} <= set(command_names())


@pytest.mark.parametrize("args", [["--help"]] + [[name, "--help"] for name in command_names()])
@pytest.mark.parametrize("columns", ["80", "1000"])
def test_help_prints_no_absolute_path(args, columns):
    result = CliRunner().invoke(app, args, env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    found = ABSOLUTE.findall(result.output)
    assert not found, f"irestore {' '.join(args)} prints {found}"


def test_the_pattern_catches_paths_and_spares_relative_ones():
    for text in ("/work/shared/datasets", "Default: /home/me/x", "/tmp", "C:\\Users\\me", "D:/data"):
        assert ABSOLUTE.search(text), text
    for text in ("../shared/datasets", "~/.cache/irestore/datasets", "<root>/test/<Name>", "$XDG_CACHE_HOME/irestore", "CBSD68/BSD68", "sigma/255", "input/ + target/"):
        assert not ABSOLUTE.search(text), text


def test_package_sources_hard_code_no_absolute_path():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ABSOLUTE.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
