"""``shapelens check PATH...`` (see :mod:`shapelens.check`), ``shapelens summary FILE[::Class]``
(:mod:`shapelens.summary`), ``shapelens probe FILE ...`` (:mod:`shapelens.probe.cli`) and
``shapelens server``.
"""
from __future__ import annotations

import sys

from . import __version__


def check_main(argv) -> int:
    from .check import main as check
    return check(argv)


USAGE = """usage: shapelens <command> [options]

commands:
  check PATH... [--format text|json|sarif|github|gitlab] [--shapes] [--statistics]
                [--config FILE | --isolated] [--baseline FILE] [--write-baseline FILE]
                [--warn-unused-ignores] [--jobs N]
                                                         static shapes and shape errors
  summary FILE[::Class] [--input SHAPE] [--format text|markdown|json] [--depth D]
                                                         torchinfo's table, statically
  probe FILE [--device D] [--format text|json]          run the model and record real shapes
  server                                                 start the language server on stdio
"""


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print("shapelens %s" % __version__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "check":
        return check_main(rest)
    if command == "summary":
        from .summary import main as summary_main
        return summary_main(rest)
    if command == "probe":
        from .probe.cli import main as probe_main
        return probe_main(rest)
    if command == "server":
        from .server import main as server_main
        return server_main(rest) or 0
    print("shapelens: unknown command %r\n%s" % (command, USAGE), end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
