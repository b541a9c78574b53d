"""Help text prints what its source says: rich markup must not eat a bracketed word.

Typer renders help as rich markup, where ``[plots]`` is a style tag and disappears, so
``pip install 'irestore[plots]'`` printed as ``pip install 'irestore'``: an install line that
silently installs the wrong thing. Brackets a user should see are written ``\\[``.
"""

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from irestore.cli.main import app

BRACKETED = re.compile(r"\\?\[[^\]\s]+\]")


def commands() -> dict[str, click.Command]:
    return dict(typer.main.get_command(app).commands)


def help_texts(command: click.Command) -> list[str]:
    texts = [command.help or ""]
    texts += [getattr(param, "help", None) or "" for param in command.params]
    return [t for t in texts if t]


@pytest.mark.parametrize("name", sorted(commands()))
def test_bracketed_words_survive_rendering(name):
    shown = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "1000"}).output
    for text in help_texts(commands()[name]):
        for word in BRACKETED.findall(text):
            assert word.lstrip("\\") in shown, f"irestore {name} --help drops {word!r} from: {text}"


def test_the_check_sees_an_unescaped_tag():
    bad = typer.Typer()

    @bad.command()
    def install(extra: str = typer.Option("", help="pip install 'irestore[plots]'")):
        """Nothing."""

    shown = CliRunner().invoke(bad, ["--help"], env={"COLUMNS": "1000"}).output
    assert "irestore[plots]" not in shown
