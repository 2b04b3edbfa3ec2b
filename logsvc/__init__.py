"""logsvc: database guest logs published into object storage, byte-exact."""

import warnings
from importlib import metadata

try:
    __version__ = metadata.version("logsvc")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

# oslo.messaging imports oslo.service, which imports eventlet, which warns on
# import (to stderr, before any log is set up); logsvc runs no eventlet.
# Every package of logsvc imports this one first (api/, guestagent/ too).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
