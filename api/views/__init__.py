"""The API's blueprints, one per family of routes."""
