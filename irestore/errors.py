"""Errors a user can act on.

Every failure that is the user's input (a bad file, a missing folder, a weights file that does not
match) raises a subclass of :class:`IRestoreError`. The CLI prints ``str(error)`` as one line on
stderr and exits non-zero; anything else is a bug and keeps its traceback.
"""


class IRestoreError(Exception):
    """Base class: the message is complete and names the file it is about."""


class ImageReadError(IRestoreError):
    """An input image is missing, empty, corrupt, too large or not an image."""


class ImageWriteError(IRestoreError):
    """An output cannot be written (missing folder, unsupported extension, exists)."""


class WeightsError(IRestoreError):
    """A checkpoint is missing, corrupt, has the wrong hash or does not fit its architecture."""


class DatasetError(IRestoreError):
    """An evaluation or training dataset is missing or laid out differently than expected."""


class ConfigError(IRestoreError):
    """A model or training configuration names an unknown option or value."""
