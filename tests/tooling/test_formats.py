"""``--format github|gitlab|sarif|json``, ``--statistics`` and ``--jobs``: each format read
back and compared with the JSON report; SARIF validated against the SARIF 2.1.0 schema
(tests/data/schemas, from oasis-tcs/sarif-spec); the same output whatever ``--jobs``."""
from __future__ import annotations

import json
import re

import jsonschema
import pytest

from tests.conftest import REPO
from tests.tooling.helpers import LINEAR_BAD, NET_BAD, shapelens, write

SARIF_SCHEMA = REPO / "tests" / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    write(root, "models/net.py", NET_BAD)
    write(root, "lin.py", LINEAR_BAD)
    # a path with characters that GitHub's workflow commands escape in properties
    write(root, "models/odd,v2:3%.py", """\
        import torch
        a = torch.zeros(2, 3)
        b = a.view(5)  # shape: [5]
        """)
    return root


def diagnostics_of(project):
    status, out, _ = shapelens("check", "--format", "json", ".", "-j", "1", cwd=project)
    assert status == 1
    return [(f["path"], d) for f in json.loads(out)["files"] for d in f["diagnostics"]]


def unescape(text):
    return re.sub(r"%(25|0D|0A|3A|2C)",
                  lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}[m[1]],
                  text)


def test_github_annotations_read_back(project):
    expected = diagnostics_of(project)
    status, out, _ = shapelens("check", "--format", "github", ".", "-j", "1", cwd=project)
    assert status == 1
    parsed = []
    for line in out.splitlines():
        m = re.fullmatch(r"::(error|warning|notice) ([^:]*)::(.*)", line)
        assert m, line
        props = dict(item.split("=", 1) for item in m[2].split(","))
        props = {k: unescape(v) for k, v in props.items()}
        parsed.append((m[1], props, unescape(m[3])))
    assert len(parsed) == len(expected) >= 4
    level = {"error": "error", "warning": "warning", "information": "notice"}
    for (kind, props, message), (path, d) in zip(parsed, expected):
        assert kind == level[d["severity"]]
        assert props == {"file": path, "line": str(d["range"]["start"]["line"]),
                         "col": str(d["range"]["start"]["column"]),
                         "endLine": str(d["range"]["end"]["line"]),
                         "endColumn": str(d["range"]["end"]["column"]),
                         "title": "shapelens " + d["code"]}
        assert message == d["message"]
    assert "file=models/odd%2Cv2%3A3%25.py," in out


def test_sarif_is_valid_sarif_2_1_0(project):
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    status, out, _ = shapelens("check", "--format", "sarif", ".", "-j", "1", cwd=project)
    assert status == 1
    log = json.loads(out)
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    results = log["runs"][0]["results"]
    expected = diagnostics_of(project)
    assert [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"],
             r["message"]["text"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in results] == [(p, d["code"], d["message"], d["range"]["start"]["line"])
                                  for p, d in expected]
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rules


def test_the_schema_rejects_a_broken_log():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(broken)   # driver.name is required


def test_gitlab_code_quality_report(project):
    expected = diagnostics_of(project)
    status, out, _ = shapelens("check", "--format", "gitlab", ".", "-j", "1", cwd=project)
    assert status == 1
    issues = json.loads(out)
    assert len(issues) == len(expected)
    severity = {"error": "major", "warning": "minor", "information": "info"}
    for issue, (path, d) in zip(issues, expected):
        assert issue["check_name"] == d["code"] and issue["description"] == d["message"]
        assert issue["severity"] == severity[d["severity"]]
        assert issue["location"]["path"] == path
        assert issue["location"]["positions"]["begin"]["line"] == d["range"]["start"]["line"]
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    # fingerprints do not depend on line numbers
    text = (project / "models" / "net.py").read_text()
    moved = project / "moved"
    write(moved, "models/net.py", "\n\n\n" + text)
    _, out2, _ = shapelens("check", "--format", "gitlab", "models/net.py", cwd=moved)
    before = {i["fingerprint"] for i in issues if i["location"]["path"] == "models/net.py"}
    assert {i["fingerprint"] for i in json.loads(out2)} == before


def test_statistics(project):
    status, out, _ = shapelens("check", "--statistics", ".", "-j", "1", cwd=project)
    assert status == 1
    rows = [line.split() for line in out.splitlines()]
    counts = {}
    for _, d in diagnostics_of(project):
        counts[d["code"]] = counts.get(d["code"], 0) + 1
    assert {code: int(n) for n, code, _sev in rows} == counts
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    status, out, _ = shapelens("check", "--statistics", "--format", "json", ".", cwd=project)
    assert {r["code"]: r["count"] for r in json.loads(out)} == counts
    assert shapelens("check", "--statistics", "--format", "sarif", ".", cwd=project)[0] == 2


@pytest.mark.parametrize("fmt", ["text", "sarif"])
def test_jobs_give_the_same_output_in_the_same_order(tmp_path, fmt):
    for i in range(4):
        write(tmp_path, "m%d/net.py" % i, NET_BAD)
        write(tmp_path, "m%d/lin.py" % i, LINEAR_BAD)
    one = shapelens("check", "--format", fmt, ".", "--jobs", "1", cwd=tmp_path)
    three = shapelens("check", "--format", fmt, ".", "--jobs", "3", cwd=tmp_path)
    default = shapelens("check", "--format", fmt, ".", cwd=tmp_path)
    assert one[0] == 1 and one[1].count("conv-in-channels") >= 4
    assert one == three == default


def test_jobs_must_be_positive(tmp_path):
    write(tmp_path, "lin.py", LINEAR_BAD)
    assert shapelens("check", "--jobs", "0", "lin.py", cwd=tmp_path)[0] == 2
