"""The logsvc guest agent: publishes a database instance's logs."""

import logsvc  # noqa: F401 - its warning filters, before any library is imported
