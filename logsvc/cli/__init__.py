"""``logsvc``: the command line of logsvc (cliff), one module per kind of command."""
