"""linkscan.errors: the errors users see.

Every error linkscan raises on purpose derives from :class:`LinkscanError` (a
``ValueError``), names what is wrong (a file, line, column, key, cohort) and says how to
fix it. Anything else escaping is a bug.
"""

class LinkscanError(ValueError):
    """Base class of linkscan's user-facing errors."""


class InputError(LinkscanError):
    """A table or store given as input cannot be used as it is."""


class JobError(LinkscanError):
    """A job file or command-line option is invalid."""


class ResultsError(LinkscanError):
    """A result store is missing, incomplete or does not hold what was asked."""


class WriteError(LinkscanError):
    """A store (the cohort store or a result store) could not be written: a full disk, a
    folder without write permission, a read-only file system. What was stored before is
    kept; the message names the path, the cause and the fix."""
