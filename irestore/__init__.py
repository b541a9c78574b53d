"""irestore: image restoration from the command line, and the model code behind it."""

__version__ = "0.1.0"
