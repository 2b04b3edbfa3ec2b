"""The logsvc guest agent: publishes a database instance's logs."""
