"""The errors a task raises for its input, before anything is written.

A module of their own, with no imports: the operator module re-exports them for
users to catch, and DAG files import the operator at every parse, so naming
them must not load the codec.
"""


class InvalidInputError(ValueError):
    """Lines, records or rows that cannot be written; with strict validation, nothing was written."""


class EmptyInputError(ValueError):
    """A source holds no line or record, and the task says empty input fails; nothing was written."""
