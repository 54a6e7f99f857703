"""The ShapeLens language server (``shapelens-server``, ``python -m shapelens.server``).

LSP over stdio; see :mod:`.server` for the layout.  Nothing but LSP goes to stdout: the real
stdout is handed to pygls and ``sys.stdout`` is pointed at stderr, so a stray ``print``
anywhere in the process cannot corrupt the stream.
"""
from __future__ import annotations

import sys
import warnings
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(arg != "--stdio" for arg in argv):
        parse_arguments(argv)  # --version, --help or a mistake (argparse costs start-up time)

    # Analyses run in worker processes (workers.py); the first starts now, loading the
    # engine while this process imports pygls.
    from .workers import start_early
    start_early()
    # Answers of the workers are read in threads of this process; a thread waiting for the
    # GIL gets it after this long (5 ms by default), so requests answered on the event loop
    # wait at most about 1 ms per step for an answer being read.
    sys.setswitchinterval(0.001)
    lsp_out = sys.stdout.buffer
    lsp_in = sys.stdin.buffer
    sys.stdout = sys.stderr  # print() anywhere in the process goes to stderr
    # ast.parse of half-typed code warns ("invalid decimal literal"...) on every keystroke
    warnings.filterwarnings("ignore", category=SyntaxWarning)

    from .server import create_server
    server = create_server()
    server.start_io(lsp_in, lsp_out)
    return 0


def parse_arguments(argv: List[str]) -> None:
    import argparse

    from shapelens import __version__
    parser = argparse.ArgumentParser(
        prog="shapelens-server",
        description="ShapeLens language server: PyTorch tensor shapes and shape errors, "
                    "over LSP on stdio.")
    parser.add_argument("--stdio", action="store_true",
                        help="talk LSP over stdin/stdout (the default and only transport)")
    parser.add_argument("--version", action="version", version="shapelens-server " + __version__)
    parser.parse_args(argv)


__all__ = ["main"]
