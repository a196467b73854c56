"""The one exception type the CLI shows as a single line (and exit status 1) instead of a traceback.

Raise a subclass of `UserError` for every mistake a user can make: a bad recipe key, a missing or corrupt file,
an output folder that already exists. Its message names the file/key and what was expected.
"""


class UserError(Exception):
    """A mistake in the user's input or environment; `str(err)` is one line that says what to do."""

    # raised alike by every process of a torchrun launch (the same recipe, the same check): rank 0 alone prints it
    same_on_every_rank: bool = False
