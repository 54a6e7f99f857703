// Small helpers with no state.
import * as os from 'os';
import * as path from 'path';
import { Uri, workspace, WorkspaceFolder } from 'vscode';

/** The workspace folder of `resource`, else the first folder, else undefined. */
export function getWorkspaceFolder(resource?: Uri): WorkspaceFolder | undefined {
    return (resource && workspace.getWorkspaceFolder(resource)) ?? workspace.workspaceFolders?.[0];
}

/**
 * Expands what people write in a path setting: `${workspaceFolder}`, `${workspaceFolderBasename}`,
 * `${userHome}`, `${env:NAME}` and a leading `~`. A relative path that names a folder (such as
 * `.venv/bin/python`) is taken relative to the workspace folder; a bare name (`python3`) is left
 * for the PATH lookup.
 */
export function resolvePathSetting(value: string, folder?: WorkspaceFolder): string {
    const folderPath = folder?.uri.fsPath;
    let result = value.trim().replace(/\$\{([^}]+)\}/g, (match: string, name: string) => {
        if (name === 'workspaceFolder' || name === 'workspaceRoot') {
            return folderPath ?? match;
        }
        if (name === 'workspaceFolderBasename') {
            return folderPath ? path.basename(folderPath) : match;
        }
        if (name === 'userHome') {
            return os.homedir();
        }
        if (name.startsWith('env:')) {
            return process.env[name.slice(4)] ?? '';
        }
        return match;
    });
    if (result === '~' || result.startsWith('~/') || result.startsWith('~\\')) {
        result = path.join(os.homedir(), result.slice(1));
    }
    const namesAFolder = result.includes('/') || result.includes('\\');
    if (namesAFolder && !path.isAbsolute(result) && folderPath) {
        result = path.join(folderPath, result);
    }
    return result;
}

/** True when `file` lies inside one of the open workspace folders. */
export function isInsideWorkspace(file: string): boolean {
    const resolved = path.resolve(file);
    return (workspace.workspaceFolders ?? []).some((folder) => {
        const relative = path.relative(folder.uri.fsPath, resolved);
        return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
