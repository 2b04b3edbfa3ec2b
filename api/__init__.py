"""logsvc's REST API: a Flask application that tracks instances and drives their agents."""

import logsvc  # noqa: F401 - its warning filters, before any library is imported
