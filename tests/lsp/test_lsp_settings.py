"""Settings through initializationOptions and workspace/configuration: severity overrides
(including "off"), re-published on didChangeConfiguration; bad values are reported through
window/logMessage, never fatal."""
from __future__ import annotations

import pytest

from lsprotocol import types

from lsp_helpers import (by_code, corpus_file, diagnostics_for, initialize, open_document,
                         wait_for)

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-settings")]


def severity_of(client, uri, code):
    found = by_code(client.diagnostics.get(uri, []), code)
    return found[0].severity if found else None


async def test_severity_override_and_off_from_initialization_options(raw_client):
    await initialize(raw_client, settings={"severity": {"conv-in-channels": "warning"},
                                           "severity.linear-in-features": "off",
                                           "inlayHints": {"enabled": True}})
    uri = open_document(raw_client, corpus_file("seed000_ex2_bad.py"))
    [d] = by_code(await diagnostics_for(raw_client, uri), "conv-in-channels")
    assert d.severity == types.DiagnosticSeverity.Warning
    uri = open_document(raw_client, corpus_file("linear_in_features_bad.py"))
    assert not by_code(await diagnostics_for(raw_client, uri), "linear-in-features")


async def test_settings_pulled_with_workspace_configuration(raw_client):
    raw_client.set_configuration({"severity": {"conv-in-channels": "hint"}},
                                 section="shapelens")
    await initialize(raw_client)
    uri = open_document(raw_client, corpus_file("seed000_ex2_bad.py"))
    await wait_for(lambda: severity_of(raw_client, uri, "conv-in-channels")
                   == types.DiagnosticSeverity.Hint, message="a hint-severity diagnostic")


async def test_configuration_change_republishes_with_the_new_severity(raw_client):
    client = raw_client
    await initialize(client)
    uri = open_document(client, corpus_file("seed000_ex2_bad.py"))
    [d] = by_code(await diagnostics_for(client, uri), "conv-in-channels")
    assert d.severity == types.DiagnosticSeverity.Error
    client.set_configuration({"severity": {"conv-in-channels": "information"}},
                             section="shapelens")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    await wait_for(lambda: severity_of(client, uri, "conv-in-channels")
                   == types.DiagnosticSeverity.Information, message="re-published diagnostics")
    client.set_configuration({"severity": {"conv-in-channels": "off"}}, section="shapelens")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    await wait_for(lambda: severity_of(client, uri, "conv-in-channels") is None,
                   message="the code switched off")


async def test_bad_setting_values_are_logged_and_defaults_kept(raw_client):
    await initialize(raw_client, settings={"severity": {"conv-in-channels": "loud"},
                                           "probe": {"timeoutSeconds": -1},
                                           "inlayHints": {"enabled": "yes"}})
    uri = open_document(raw_client, corpus_file("seed000_ex2_bad.py"))
    [d] = by_code(await diagnostics_for(raw_client, uri), "conv-in-channels")
    assert d.severity == types.DiagnosticSeverity.Error
    await wait_for(lambda: len([m for m in raw_client.log_messages
                                if m.type == types.MessageType.Warning]) >= 3,
                   message="three warnings")
    warnings = "\n".join(m.message for m in raw_client.log_messages)
    assert "shapelens.severity" in warnings and "shapelens.probe.timeoutSeconds" in warnings
    assert "shapelens.inlayHints.enabled" in warnings
