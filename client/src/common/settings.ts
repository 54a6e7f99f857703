// The `shapelens` settings: what the client itself reads, and the section it hands the server
// (initializationOptions.settings, answers to workspace/configuration, and
// workspace/didChangeConfiguration), with `shapelens.python` resolved to a real path so that the
// server, which launches the probe with it, never sees `${workspaceFolder}` or `~`.
import { ConfigurationChangeEvent, Uri, workspace } from 'vscode';
import { SERVER_ID } from './constants';
import { getWorkspaceFolder, isRecord, resolvePathSetting } from './utilities';

/** Settings whose change needs a new server process (it runs on that interpreter). */
const RESTART_SETTINGS = [`${SERVER_ID}.python`];

export interface ProbeSettings {
    device: string;
    timeoutSeconds: number;
}

/** The `shapelens.python` setting, expanded; '' when unset. */
export function getPythonSetting(resource?: Uri): string {
    const raw = workspace.getConfiguration(SERVER_ID, resource).get<string>('python', '');
    return raw.trim() ? resolvePathSetting(raw, getWorkspaceFolder(resource)) : '';
}

export function getProbeSettings(resource?: Uri): ProbeSettings {
    const config = workspace.getConfiguration(SERVER_ID, resource);
    const timeout = config.get<number>('probe.timeoutSeconds', 60);
    return {
        device: config.get<string>('probe.device', 'auto').trim() || 'auto',
        timeoutSeconds: typeof timeout === 'number' && timeout > 0 ? timeout : 60,
    };
}

/** The whole `shapelens` section as plain JSON, as the server reads it. */
export function getServerSettings(resource?: Uri): Record<string, unknown> {
    const config = workspace.getConfiguration(SERVER_ID, resource);
    // A WorkspaceConfiguration carries the values as properties beside its methods; the JSON
    // round trip keeps the values only, including keys this manifest does not declare.
    const settings = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
    return resolveServerSettings(settings, resource);
}

/** `settings` (a `shapelens` section) with `python` expanded; other keys untouched. */
export function resolveServerSettings(settings: Record<string, unknown>, resource?: Uri): Record<string, unknown> {
    const python = settings['python'];
    if (typeof python === 'string' && python.trim()) {
        return { ...settings, python: resolvePathSetting(python, getWorkspaceFolder(resource)) };
    }
    return settings;
}

/** Rewrites `{shapelens: {...}}` inside a pushed workspace/didChangeConfiguration payload. */
export function resolvePushedSettings(params: unknown): unknown {
    if (isRecord(params) && isRecord(params['settings']) && isRecord(params['settings'][SERVER_ID])) {
        const section = params['settings'][SERVER_ID] as Record<string, unknown>;
        return { ...params, settings: { ...params['settings'], [SERVER_ID]: resolveServerSettings(section) } };
    }
    return params;
}

export function needsRestart(e: ConfigurationChangeEvent): boolean {
    return RESTART_SETTINGS.some((s) => e.affectsConfiguration(s));
}
