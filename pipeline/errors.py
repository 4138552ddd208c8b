"""Errors a stage reports to its user (file + what is wrong), as opposed to bugs."""


class PipelineError(Exception):
    """Bad input or a failed check: the message names the file and what is wrong."""


class RejectionError(PipelineError):
    """Too many input records were rejected for the stage to be trusted."""
