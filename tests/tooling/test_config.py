"""[tool.shapelens] / shapelens.toml: every key, discovery up the tree, precedence, origins, and
bad files (an error naming the file and the key, never a traceback)."""
from __future__ import annotations

import os
import textwrap

import pytest

from shapelens.config import (DEFAULT_CONFIG, EDITOR, ConfigError, ConfigFinder, Origin,
                              find_config, load_config, parse_config)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


FULL = """\
    [tool.shapelens]
    include = ["*.py", "scripts/*.pyw"]
    exclude = ["build/", "legacy/**"]
    python = ".venv/bin/python"
    extra-paths = ["src", "../shared_lib"]
    warn-unused-ignores = true
    severity = {shape-contract = "error", probe-disagrees = "off", unused-ignore = "info"}

    [tool.shapelens.probe]
    device = "cuda:1"
    timeout-seconds = 30
    dims = {N = 2, H = 64}
    """


def test_every_key_of_a_pyproject(tmp_path):
    path = write(tmp_path / "proj" / "pyproject.toml", FULL)
    config = load_config(str(path))
    root = str(tmp_path / "proj")
    assert config.path == str(path) and config.root == root
    assert config.include == ("*.py", "scripts/*.pyw")
    assert config.exclude == ("build/", "legacy/**")
    assert config.python == os.path.join(root, ".venv", "bin", "python")
    assert config.extra_paths == (os.path.join(root, "src"),
                                  os.path.join(str(tmp_path), "shared_lib"))
    assert config.warn_unused_ignores is True
    assert dict(config.severity) == {"shape-contract": "error", "probe-disagrees": "off",
                                     "unused-ignore": "information"}
    assert config.probe_device == "cuda:1"
    assert config.probe_timeout_s == 30.0
    assert dict(config.probe_dims) == {"N": 2, "H": 64}


def test_every_value_remembers_the_file_it_came_from(tmp_path):
    path = write(tmp_path / "pyproject.toml", FULL)
    config = load_config(str(path))
    for name in ("include", "exclude", "python", "extra_paths", "severity", "probe_device",
                 "probe_timeout_s", "probe_dims", "warn_unused_ignores"):
        assert config.origin(name) == Origin("file", str(path)), name
        assert config.origin(name).from_workspace_file
    assert DEFAULT_CONFIG.origin("python") == Origin("default")
    assert not DEFAULT_CONFIG.origin("python").from_workspace_file


def test_defaults_for_what_the_file_leaves_out(tmp_path):
    config = load_config(str(write(tmp_path / "pyproject.toml", "[tool.shapelens]\n")))
    assert config.include == ("*.py",) and config.exclude == ()
    assert config.python == "" and config.origin("python").kind == "default"
    assert (config.probe_device, config.probe_timeout_s) == ("auto", 60.0)
    assert config.severity_of("shape-contract", "warning") == "warning"


def test_a_bare_interpreter_name_stays_a_name_for_path(tmp_path):
    config = load_config(str(write(tmp_path / "shapelens.toml", 'python = "python3"\n')))
    assert config.python == "python3"


def test_shapelens_toml_has_the_section_at_its_top_level(tmp_path):
    path = write(tmp_path / "shapelens.toml", """\
        exclude = ["gen/"]
        [probe]
        device = "meta"
        """)
    config = load_config(str(path))
    assert config.exclude == ("gen/",) and config.probe_device == "meta"


def test_a_pyproject_without_the_section_is_not_a_configuration(tmp_path):
    assert parse_config("[tool.ruff]\nline-length = 100\n",
                        str(tmp_path / "pyproject.toml")) is None


def test_discovery_walks_up_to_the_nearest_configuration(tmp_path):
    top = write(tmp_path / "pyproject.toml", '[tool.shapelens]\nexclude = ["x/"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", "[tool.black]\nline-length = 90\n")
    inner = write(tmp_path / "pkg" / "sub" / "shapelens.toml", 'exclude = ["y/"]\n')
    (tmp_path / "pkg" / "sub" / "deep").mkdir()
    (tmp_path / "other").mkdir()
    # a pyproject.toml without [tool.shapelens] is passed over, as ruff does
    assert find_config(str(tmp_path / "pkg" / "model.py")) == str(top)
    assert find_config(str(tmp_path / "pkg" / "sub" / "deep" / "m.py")) == str(inner)
    assert find_config(str(tmp_path / "other" / "m.py")) == str(top)
    finder = ConfigFinder()
    assert finder.config_for(str(tmp_path / "pkg" / "sub" / "m.py")).exclude == ("y/",)
    assert finder.config_for(str(tmp_path / "pkg" / "m.py")).exclude == ("x/",)


def test_shapelens_toml_wins_over_pyproject_in_the_same_folder(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.shapelens]\nexclude = ["a/"]\n')
    chosen = write(tmp_path / "shapelens.toml", 'exclude = ["b/"]\n')
    assert find_config(str(tmp_path / "m.py")) == str(chosen)


def test_explicit_file_and_isolated(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.shapelens]\nexclude = ["a/"]\n')
    other = write(tmp_path / "elsewhere" / "ci.toml", 'exclude = ["b/"]\n')
    assert ConfigFinder(explicit=str(other)).config_for(str(tmp_path / "m.py")).exclude \
        == ("b/",)
    assert ConfigFinder(isolated=True).config_for(str(tmp_path / "m.py")) == DEFAULT_CONFIG


def test_include_and_exclude_patterns_are_relative_to_the_file(tmp_path):
    config = load_config(str(write(tmp_path / "pyproject.toml", FULL)))
    root = tmp_path
    assert config.excludes(str(root / "build" / "gen.py"))
    assert config.excludes(str(root / "legacy" / "a" / "b.py"))
    assert not config.excludes(str(root / "src" / "build.py"))
    assert config.excludes_folder(str(root / "build"))
    assert config.selects(str(root / "src" / "model.py"))
    assert config.selects(str(root / "scripts" / "run.pyw"))
    assert not config.selects(str(root / "notes.txt"))
    assert not config.selects(str(root / "build" / "x.py"))


def test_editor_values_override_the_file_and_severity_merges_per_code(tmp_path):
    path = write(tmp_path / "pyproject.toml", FULL)
    config = load_config(str(path)).overridden(
        {"probe_device": "cpu", "severity": {"probe-disagrees": "warning"}}, EDITOR)
    assert config.probe_device == "cpu" and config.origin("probe_device") == EDITOR
    assert dict(config.severity) == {"shape-contract": "error", "probe-disagrees": "warning",
                                     "unused-ignore": "information"}
    assert config.origin("python") == Origin("file", str(path))   # not overridden


@pytest.mark.parametrize("text, key, words", [
    ('[tool.shapelens]\nexlcude = ["a"]\n', "exlcude", "unknown key"),
    ('[tool.shapelens]\ninclude = "*.py"\n', "include", "list of glob patterns"),
    ('[tool.shapelens]\nseverity = {conv-in-channel = "off"}\n', "severity",
     "unknown diagnostic code 'conv-in-channel'"),
    ('[tool.shapelens]\nseverity = {shape-contract = "loud"}\n', "severity", "must be one of"),
    ('[tool.shapelens]\npython = 3\n', "python", "expected a string"),
    ('[tool.shapelens]\nextra-paths = "src"\n', "extra-paths", "list of folder paths"),
    ('[tool.shapelens]\nwarn-unused-ignores = "yes"\n', "warn-unused-ignores", "true or false"),
    ('[tool.shapelens.probe]\ndevice = "gpu"\n', "probe.device", "unknown device 'gpu'"),
    ('[tool.shapelens.probe]\ntimeout-seconds = -1\n', "probe.timeout-seconds",
     "positive number"),
    ('[tool.shapelens.probe]\ndims = {N = "two"}\n', "probe.dims", "non-negative integer"),
    ('[tool.shapelens.probe]\ncolour = "red"\n', "probe.colour", "unknown key"),
    ('[tool.shapelens]\nprobe = 3\n', "probe", "expected a table"),
])
def test_a_bad_value_names_the_file_and_the_key(tmp_path, text, key, words):
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert info.value.key == key and info.value.path == str(path)
    assert str(info.value).startswith("%s: [tool.shapelens] %s: " % (path, key))
    assert words in str(info.value)


def test_malformed_toml_names_the_file_and_where(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.shapelens\nexclude = [\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert str(info.value).startswith("%s: not valid TOML: " % path)
    assert "line 1" in str(info.value)
    # a malformed pyproject.toml still counts as the configuration, so its error is seen
    assert find_config(str(tmp_path / "m.py")) == str(path)


def test_the_server_keeps_the_last_good_configuration(tmp_path):
    path = write(tmp_path / "shapelens.toml", 'exclude = ["old/"]\n')
    errors = []
    finder = ConfigFinder(keep_last_good=True, on_error=errors.append)
    assert finder.config_for(str(tmp_path / "m.py")).exclude == ("old/",)
    path.write_text('exclude = [\n')
    os.utime(path, ns=(1, 1))   # a new modification time, whatever the clock's resolution
    assert finder.config_for(str(tmp_path / "m.py")).exclude == ("old/",)
    assert len(errors) == 1 and "not valid TOML" in str(errors[0])
    finder.config_for(str(tmp_path / "m.py"))
    assert len(errors) == 1                          # reported once, not on every file
    assert finder.errors() == {str(path): str(errors[0])}
    path.write_text('exclude = ["new/"]\n')
    os.utime(path, ns=(2, 2))
    assert finder.config_for(str(tmp_path / "m.py")).exclude == ("new/",)
    assert finder.errors() == {}


def test_the_command_line_finder_raises(tmp_path):
    write(tmp_path / "shapelens.toml", "probe = 1\n")
    with pytest.raises(ConfigError):
        ConfigFinder().config_for(str(tmp_path / "m.py"))


def test_an_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "missing.toml"))
    assert "cannot read it" in str(info.value)
