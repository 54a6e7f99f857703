"""The server's view of the configuration (``ShapeLensServer.config_for``): what the editor
sets explicitly wins over the project file, the file over the defaults, and each value says
where it came from, so the probe can tell an interpreter named by a repository's file from
one the user chose."""
from __future__ import annotations

import os

from shapelens.config import EDITOR, Origin
from shapelens.server.server import ShapeLensServer

from tests.tooling.helpers import write


def test_precedence_and_origins(tmp_path):
    config = write(tmp_path, "pyproject.toml", """\
        [tool.shapelens]
        python = "venv/bin/python"
        severity = {shape-contract = "error", reshape-numel = "warning"}
        [tool.shapelens.probe]
        device = "cpu"
        timeout-seconds = 5
        """)
    server = ShapeLensServer()
    path = str(tmp_path / "model.py")
    found = server.config_for(path)
    from_file = Origin("file", str(config))
    assert found.python == os.path.join(str(tmp_path), "venv", "bin", "python")
    assert found.origin("python") == from_file and found.origin("python").from_workspace_file
    assert (found.probe_device, found.probe_timeout_s) == ("cpu", 5.0)
    assert found.probe_dims == {} and found.origin("probe_dims") == Origin("default")

    # editor defaults (what VS Code reports for unset keys) do not hide the file's values;
    # only what the user set does
    server.apply_settings({"probe": {"device": "meta"}, "python": "/usr/bin/python3",
                           "severity": {"shape-contract": "hint"}})
    found = server.config_for(path)
    assert found.probe_device == "meta" and found.origin("probe_device") == EDITOR
    assert found.python == "/usr/bin/python3" and found.origin("python") == EDITOR
    assert not found.origin("python").from_workspace_file
    assert found.probe_timeout_s == 5.0 and found.origin("probe_timeout_s") == from_file
    assert dict(found.severity) == {"shape-contract": "hint", "reshape-numel": "warning"}

    # a file elsewhere (no project file): the editor's values over the defaults
    elsewhere = server.config_for(str(tmp_path.parent / "other" / "m.py"))
    assert elsewhere.path is None
    assert elsewhere.probe_timeout_s == 60.0 and elsewhere.probe_device == "meta"
