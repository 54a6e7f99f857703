"""Settings: ``workspace/configuration`` (section ``shapelens``) after ``initialized`` and on
every ``workspace/didChangeConfiguration``; the server merges them over the initialization
options (:meth:`ShapeLensServer.apply_settings`) and the features react to the change
(diagnostics re-published with the new severities, inlay hints refreshed).

Also registers, where the client allows dynamic registration, a file watcher for ``*.py``
(so changes on disk re-analyse the documents that import them) and for the project
configuration files (``pyproject.toml``, ``shapelens.toml``: everything is re-analysed and
re-published), and the configuration change notification.
"""
from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from .feature import LanguageFeature
from .settings import SECTION

logger = logging.getLogger("shapelens")

REQUEST_TIMEOUT_S = 5.0


class Configuration(LanguageFeature):
    def register(self) -> None:
        self.handle(types.WORKSPACE_DID_CHANGE_CONFIGURATION, self.did_change_configuration)

    async def initialized(self) -> None:
        await self.register_capabilities()
        await self.pull()

    async def register_capabilities(self) -> None:
        registrations = []
        if self.server.client_supports(
                "workspace.did_change_watched_files.dynamic_registration"):
            registrations.append(types.Registration(
                id="shapelens-watch-py", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in
                              ("**/*.py", "**/pyproject.toml", "**/shapelens.toml")])))
        if self.server.client_supports(
                "workspace.did_change_configuration.dynamic_registration"):
            registrations.append(types.Registration(
                id="shapelens-configuration",
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(
                    section=SECTION)))
        if not registrations:
            return
        try:
            await asyncio.wait_for(self.server.client_register_capability_async(
                types.RegistrationParams(registrations=registrations)), REQUEST_TIMEOUT_S)
        except Exception as exc:
            logger.debug("dynamic registration refused: %s", exc)

    async def pull(self) -> None:
        """Ask the client for the ``shapelens`` section (if it answers such requests)."""
        if not self.server.client_supports("workspace.configuration"):
            return
        try:
            values = await asyncio.wait_for(self.server.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])),
                REQUEST_TIMEOUT_S)
        except Exception as exc:
            logger.warning("could not read the shapelens settings: %s", exc)
            return
        self.server.apply_settings(values[0] if values else None)

    async def did_change_configuration(self, params: types.DidChangeConfigurationParams):
        pushed = params.settings
        if isinstance(pushed, dict) and isinstance(pushed.get(SECTION), dict):
            self.server.apply_settings(pushed[SECTION])
        else:
            await self.pull()
