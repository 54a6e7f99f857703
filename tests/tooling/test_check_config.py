"""``shapelens check`` reads the same configuration as the server: severities, include/exclude,
extra import paths; ``--config FILE`` and ``--isolated``; a bad file is a usage error that
names the file and the key."""
from __future__ import annotations

from tests.tooling.helpers import (BLOCKS, LINEAR_BAD, MAIN, NET_BAD, codes_by_line,
                                   shapelens, write)


def test_severity_from_the_file_changes_and_silences_codes(tmp_path):
    write(tmp_path, "net.py", NET_BAD)
    write(tmp_path, "pyproject.toml", """\
        [tool.shapelens]
        severity = {conv-in-channels = "off", shape-contract = "error"}
        """)
    status, out, _ = shapelens("check", "net.py", "-j", "1", cwd=tmp_path)
    assert status == 1
    assert out.splitlines() == [
        "net.py:16:5: error shape-contract shape [2, 3] does not match the commented shape "
        "[3, 2]"]


def test_exclude_applies_to_walks_and_to_files_named(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.shapelens]\nexclude = ["legacy/", "gen_*.py"]\n')
    write(tmp_path, "app/lin.py", LINEAR_BAD)
    write(tmp_path, "legacy/old.py", LINEAR_BAD)
    write(tmp_path, "app/gen_model.py", LINEAR_BAD)
    status, out, err = shapelens("check", ".", "-j", "1", cwd=tmp_path)
    assert status == 1 and set(codes_by_line(out)) == {("app/lin.py", 4)}
    assert "1 file checked" in err
    # pre-commit names files one by one: an excluded one is still left alone
    status, out, err = shapelens("check", "legacy/old.py", "app/gen_model.py", cwd=tmp_path)
    assert (status, out) == (0, "") and "0 files checked" in err


def test_include_selects_what_a_walk_checks(tmp_path):
    write(tmp_path, "shapelens.toml", 'include = ["models/*.py"]\n')
    write(tmp_path, "models/a.py", LINEAR_BAD)
    write(tmp_path, "scripts/b.py", LINEAR_BAD)
    status, out, _ = shapelens("check", ".", "-j", "1", cwd=tmp_path)
    assert set(codes_by_line(out)) == {("models/a.py", 4)}


def test_extra_paths_resolve_imports(tmp_path):
    write(tmp_path, "lib/blocks.py", BLOCKS)
    write(tmp_path, "app/main.py", MAIN)
    status, out, _ = shapelens("check", "app/main.py", "-j", "1", cwd=tmp_path)
    assert status == 0 and out == ""          # blocks is not found: nothing is known
    write(tmp_path, "pyproject.toml", '[tool.shapelens]\nextra-paths = ["lib"]\n')
    status, out, _ = shapelens("check", "main.py", "-j", "1", cwd=tmp_path / "app")
    assert status == 1 and "conv-in-channels" in out
    assert "(raised in Block, ../lib/blocks.py:9)" in out


def test_discovery_per_file_up_the_tree(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.shapelens]\nseverity = {linear-in-features = "warning"}\n')
    write(tmp_path, "a/lin.py", LINEAR_BAD)
    write(tmp_path, "b/shapelens.toml", 'severity = {linear-in-features = "off"}\n')
    write(tmp_path, "b/c/lin.py", LINEAR_BAD)
    status, out, _ = shapelens("check", ".", "-j", "1", cwd=tmp_path)
    assert status == 0
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith("a/lin.py")]
    assert "a/lin.py:4:5: warning linear-in-features" in out


def test_config_option_and_isolated(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.shapelens]\nseverity = {linear-in-features = "off"}\n')
    write(tmp_path, "ci/strict.toml", 'severity = {linear-in-features = "information"}\n')
    write(tmp_path, "lin.py", LINEAR_BAD)
    assert shapelens("check", "lin.py", cwd=tmp_path)[:2] == (0, "")
    status, out, _ = shapelens("check", "--config", "ci/strict.toml", "lin.py", cwd=tmp_path)
    assert status == 0 and "lin.py:4:5: information linear-in-features" in out
    status, out, _ = shapelens("check", "--isolated", "lin.py", cwd=tmp_path)
    assert status == 1 and "lin.py:4:5: error linear-in-features" in out
    status, _, err = shapelens("check", "--isolated", "--config", "ci/strict.toml", "lin.py",
                               cwd=tmp_path)
    assert status == 2 and "not allowed with" in err


def test_a_bad_configuration_is_a_usage_error_naming_file_and_key(tmp_path):
    config = write(tmp_path, "pyproject.toml", '[tool.shapelens.probe]\ndevice = "gpu"\n')
    write(tmp_path, "lin.py", LINEAR_BAD)
    status, out, err = shapelens("check", "lin.py", cwd=tmp_path)
    assert status == 2 and out == ""
    assert err.strip() == ("shapelens: %s: [tool.shapelens] probe.device: unknown device 'gpu': "
                           "use auto, cpu, cuda, cuda:N, mps or meta" % config)
    config.write_text("[tool.shapelens\n")
    status, out, err = shapelens("check", "lin.py", cwd=tmp_path)
    assert status == 2 and "not valid TOML" in err and "Traceback" not in err
    status, _, err = shapelens("check", "--config", "nope.toml", "lin.py", cwd=tmp_path)
    assert status == 2 and "nope.toml: cannot read it" in err and "Traceback" not in err
