// The `shapelens` settings: what the client itself reads, and the section it hands the server
// (initializationOptions.settings, answers to workspace/configuration, and
// workspace/didChangeConfiguration): only the keys the user set, so that a project's
// [tool.shapelens] is not hidden by defaults, with `shapelens.python` resolved to a real path so
// that the server, which launches the probe with it, never sees `${workspaceFolder}` or `~`.
import { ConfigurationChangeEvent, extensions, Uri, workspace } from 'vscode';
import { SERVER_ID } from './constants';
import { getWorkspaceFolder, isRecord, resolvePathSetting } from './utilities';

/** Settings whose change needs a new server process (it runs on that interpreter). */
const RESTART_SETTINGS = [`${SERVER_ID}.python`];

export interface ProbeSettings {
    /** Only what the user set: otherwise the server uses the project's [tool.shapelens] or its default. */
    device?: string;
    timeoutSeconds?: number;
}

/** The `shapelens.python` setting, expanded; '' when unset. */
export function getPythonSetting(resource?: Uri): string {
    const raw = workspace.getConfiguration(SERVER_ID, resource).get<string>('python', '');
    return raw.trim() ? resolvePathSetting(raw, getWorkspaceFolder(resource)) : '';
}

export function getProbeSettings(resource?: Uri): ProbeSettings {
    const set = getServerSettings(resource);
    const device = set['probe.device'];
    const timeout = set['probe.timeoutSeconds'];
    return {
        device: typeof device === 'string' && device.trim() ? device.trim() : undefined,
        timeoutSeconds: typeof timeout === 'number' && timeout > 0 ? timeout : undefined,
    };
}

/** The keys of the `shapelens.*` settings this extension declares, without the prefix. */
function declaredKeys(): string[] {
    const manifest = extensions.getExtension(`${SERVER_ID}.${SERVER_ID}`)?.packageJSON as
        | { contributes?: { configuration?: { properties?: Record<string, unknown> } } }
        | undefined;
    return Object.keys(manifest?.contributes?.configuration?.properties ?? {})
        .filter((key) => key.startsWith(`${SERVER_ID}.`))
        .map((key) => key.slice(SERVER_ID.length + 1));
}

/** Settings that Restricted Mode takes from the user's settings only (the manifest's
 * `restrictedConfigurations`). */
const RESTRICTED_KEYS = ['python'];

/**
 * The `shapelens` settings the user has set (in any scope), as dotted keys, `python` expanded.
 * Only these are sent to the server: what is set in the editor wins over a project's
 * `[tool.shapelens]`, while a default VS Code reports for an unset key must not.
 */
export function getServerSettings(resource?: Uri): Record<string, unknown> {
    const config = workspace.getConfiguration(SERVER_ID, resource);
    const settings: Record<string, unknown> = {};
    for (const key of declaredKeys()) {
        const seen = config.inspect(key);
        if (!seen) {
            continue;
        }
        const userOnly = !workspace.isTrusted && RESTRICTED_KEYS.includes(key);
        const value = userOnly
            ? seen.globalLanguageValue ?? seen.globalValue
            : seen.workspaceFolderLanguageValue ??
              seen.workspaceFolderValue ??
              seen.workspaceLanguageValue ??
              seen.workspaceValue ??
              seen.globalLanguageValue ??
              seen.globalValue;
        if (value !== undefined) {
            settings[key] = value;
        }
    }
    const python = settings['python'];
    if (typeof python === 'string' && python.trim()) {
        settings['python'] = resolvePathSetting(python, getWorkspaceFolder(resource));
    }
    return settings;
}

/** A pushed workspace/didChangeConfiguration payload with the `shapelens` section replaced by
 * what the user set (see getServerSettings). */
export function resolvePushedSettings(params: unknown): unknown {
    if (isRecord(params) && isRecord(params['settings']) && isRecord(params['settings'][SERVER_ID])) {
        return { ...params, settings: { ...params['settings'], [SERVER_ID]: getServerSettings() } };
    }
    return params;
}

export function needsRestart(e: ConfigurationChangeEvent): boolean {
    return RESTART_SETTINGS.some((s) => e.affectsConfiguration(s));
}
