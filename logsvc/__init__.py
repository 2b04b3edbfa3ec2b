"""logsvc: database guest logs published into object storage, byte-exact."""

from importlib import metadata

try:
    __version__ = metadata.version("logsvc")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"
