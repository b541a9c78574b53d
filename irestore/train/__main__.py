"""``python -m irestore.train``: the train command without the rest of the CLI, for ``torchrun -m``."""

import typer

from irestore.cli.main import friendly_errors
from irestore.cli.train_cmd import train_command

if __name__ == "__main__":
    typer.run(friendly_errors(train_command))
