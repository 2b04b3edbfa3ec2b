"""The client side of logsvc: what a user's machine runs to reach the logs."""
