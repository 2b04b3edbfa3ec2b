"""logsvc's REST API: a Flask application that tracks instances and drives their agents."""
