"""``shapelens probe FILE``: run a file with torch and print the real tensor shapes.

Exit status: 0 the run completed, 1 the probed code raised, 2 usage error, 3 the probe could
not run to the end (timeout, crash, out of memory, no torch, unusable device).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tokenize

from .report import format_text, probe_json
from .runner import DEVICE_PATTERN, run_probe

EXIT_OK, EXIT_RAISED, EXIT_USAGE, EXIT_PROBE_FAILED = 0, 1, 2, 3


def samples_for(path: str, source: str) -> list[dict]:
    """Probe-request samples for the comment/annotation-declared inputs of ``source``.

    Each is ``{"class_name", "line", "inputs": {param: [dims]}, "ctor_kwargs", "kind"}``, as the
    static analysis reports them (``shapelens.analysis.analyze(...).samples``): the forwards
    the file does not call itself.  This is the one place that connects the two; an analysis
    failure costs the samples, never the probe.
    """
    try:
        from shapelens.analysis import analyze, default_resolver

        report = analyze(source, path, default_resolver(path))
        return [sample.to_json() for sample in report.samples]
    except Exception as exc:  # a bug in the analysis must not stop the probe
        print("shapelens probe: static analysis failed, probing without sample inputs: %s: %s"
              % (type(exc).__name__, exc), file=sys.stderr)
        return []


def parse_dims(text: str) -> dict[str, int]:
    """``"N=2,H=32"`` -> ``{"N": 2, "H": 32}``; raises ValueError on anything else."""
    dims = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError("expected NAME=INT, got %r" % part.strip())
        dims[name] = int(value)
        if dims[name] < 0:
            raise ValueError("%s=%d: a size cannot be negative" % (name, dims[name]))
    return dims


def main(argv: list[str] | None = None) -> int:
    """Run ``shapelens probe`` with ``argv`` (without the program name); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="shapelens probe",
        description="Run FILE with torch and print the shape of every tensor name per line, "
                    "and the run-time error if there is one.  FILE runs as the program "
                    "(`if __name__ == \"__main__\":` blocks and the main() they call "
                    "included), without its command-line arguments; a training loop runs one "
                    "step, a DataLoader one batch (and one of the last batch's size), nothing "
                    "is written or downloaded, and the report says what was held back.")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--device", default=None,
                        help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps or meta "
                             "(default: [tool.shapelens.probe] device, else auto)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds the file may run before it is stopped (default: "
                             "[tool.shapelens.probe] timeout-seconds, else 60; starting Python "
                             "and importing torch are not counted)")
    parser.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE",
                        help="the value of a symbolic dim of the sample inputs (# shape: "
                             "comments, annotations), e.g. --dim N=2 --dim T=10; repeatable "
                             "(N=2,T=10 also works; over [tool.shapelens.probe] dims); the "
                             "report says which values were used")
    parser.add_argument("--dims", action="append", dest="dim", help=argparse.SUPPRESS)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter to run the file with (default: this one)")
    parser.add_argument("--memory-limit", type=int, default=None, metavar="MB",
                        help="the most memory the probe's processes may use together, and its "
                             "address space (default: half of this machine's memory, no "
                             "address-space cap)")
    try:
        args = parser.parse_args(argv)
        dims = {}
        for text in args.dim:
            dims.update(parse_dims(text))
    except SystemExit as exc:  # argparse: --help exits 0, a usage error exits 2
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    except ValueError as exc:
        print("shapelens probe: --dim: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    # the file's [tool.shapelens.probe] fills in what the command line leaves out (the
    # interpreter is not taken from it: running one a repository names needs --python)
    try:
        from shapelens.config import ConfigFinder
        config = ConfigFinder().config_for(os.path.abspath(args.file))
    except Exception as exc:  # ConfigError: the file and the key at fault
        print("shapelens probe: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    args.device = args.device or config.probe_device
    args.timeout = args.timeout if args.timeout is not None else config.probe_timeout_s
    dims = dict(config.probe_dims, **dims)
    if not DEVICE_PATTERN.match(args.device):
        print("shapelens probe: --device: unknown device %r (auto, cpu, cuda, cuda:N, mps, meta)"
              % args.device, file=sys.stderr)
        return EXIT_USAGE
    if args.timeout <= 0:
        print("shapelens probe: --timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    try:
        with tokenize.open(args.file) as handle:  # honours a coding cookie
            source = handle.read()
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        print("shapelens probe: cannot read %s: %s" % (args.file, exc), file=sys.stderr)
        return EXIT_USAGE

    request = {"path": os.path.abspath(args.file), "source": source, "device": args.device,
               "dims": dims, "samples": samples_for(os.path.abspath(args.file), source)}
    result = run_probe(request, python=args.python, timeout_s=args.timeout,
                       memory_limit_mb=args.memory_limit)

    if args.format == "json":
        sys.stdout.write(json.dumps(probe_json(result, args.file, source)) + "\n")
    else:
        sys.stdout.write(format_text(result, args.file, source))
    print("shapelens probe: %s: %s" % (result.status, result.message), file=sys.stderr)
    if result.status == "ok":
        return EXIT_OK
    if result.status == "error":
        return EXIT_RAISED
    return EXIT_PROBE_FAILED


if __name__ == "__main__":
    sys.exit(main())
