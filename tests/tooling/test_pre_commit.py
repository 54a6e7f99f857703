"""The pre-commit hook (.pre-commit-hooks.yaml), installed by pre-commit itself from this
repository (``pre-commit try-repo``, no network for the repository: a local clone) into its own
environment, run on a sample repository: it fails on a file with a shape error, passes on a
clean one, and leaves alone what the sample's [tool.shapelens] excludes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import REPO
from tests.tooling.helpers import LINEAR_BAD, write

CLEAN = LINEAR_BAD.replace("zeros(3, 5)", "zeros(3, 4)")


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=str(cwd), check=True, capture_output=True, text=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"))


def test_pre_commit_try_repo_runs_the_hook(tmp_path):
    assert shutil.which("git"), "git is needed"
    sample = tmp_path / "sample"
    write(sample, "model.py", CLEAN)
    write(sample, "legacy/old.py", LINEAR_BAD)
    write(sample, "pyproject.toml", '[tool.shapelens]\nexclude = ["legacy/"]\n')
    git("init", "-q", cwd=sample)
    git("add", ".", cwd=sample)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
               PRE_COMMIT_COLOR="never", SKIP="")

    def try_repo():
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "shapelens",
             "--all-files", "--verbose"],
            cwd=str(sample), capture_output=True, text=True, timeout=900, env=env)

    passed = try_repo()
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-3000:]
    assert "shapelens" in passed.stdout and "Passed" in passed.stdout

    write(sample, "model.py", LINEAR_BAD)
    git("add", ".", cwd=sample)
    failed = try_repo()
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "Failed" in failed.stdout
    assert "model.py:4:5: error linear-in-features" in failed.stdout
    assert "legacy/old.py" not in failed.stdout
