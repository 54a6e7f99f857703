"""The server's features, in the order events reach them."""
from .code_actions import CodeActions
from .code_lens import CodeLens
from .configuration import Configuration
from .diagnostics import Diagnostics
from .documents import Documents
from .hover import Hover
from .inlay_hints import InlayHints
from .probe import Probe
from .summary import Summary

FEATURES = (Documents, Configuration, Diagnostics, Hover, InlayHints, CodeActions, CodeLens,
            Probe, Summary)
