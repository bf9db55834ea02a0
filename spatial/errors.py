"""Errors a user can fix."""


class InputError(ValueError):
    """Raised for input a user can fix: wrong columns, bad coordinates, unreadable encoding.

    The message names the file, the rows or column, what was expected and how to fix it.
    The CLI prints it and exits with status 2, without a traceback.
    """
