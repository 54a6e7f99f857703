// Which Python runs the server (and so the probe), and whether it is good enough.
//
// Order: the `shapelens.python` setting; else the interpreter selected in the Python extension
// (ms-python.python), used through its API when that extension is installed — an optional
// integration, never a dependency; else `python3` on PATH (`python` on Windows).
import { execFile } from 'child_process';
import { Disposable, Event, EventEmitter, extensions, Uri, workspace } from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import { MIN_PYTHON, PYTHON_EXTENSION_ID } from './constants';
import { traceDebug, traceError, traceInfo, traceWarn } from './log/logging';
import { getPythonSetting } from './settings';
import { isInsideWorkspace } from './utilities';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
    /** An executable path, or a bare name looked up on PATH. */
    path: string;
    source: InterpreterSource;
}

export type PythonCheck =
    | { ok: true; version: [number, number] }
    | { ok: false; reason: 'missing' | 'too-old' | 'broken'; detail: string; version?: [number, number] };

const DEFAULT_PYTHON = process.platform === 'win32' ? 'python' : 'python3';

const onDidChangePythonInterpreterEvent = new EventEmitter<void>();
/** Fires when the interpreter selected in the Python extension changes. */
export const onDidChangePythonInterpreter: Event<void> = onDidChangePythonInterpreterEvent.event;

let pythonApi: PythonExtension | undefined;

async function getPythonExtensionApi(): Promise<PythonExtension | undefined> {
    if (pythonApi) {
        return pythonApi;
    }
    if (!extensions.getExtension(PYTHON_EXTENSION_ID)) {
        return undefined; // not installed: ShapeLens works without it
    }
    try {
        pythonApi = await PythonExtension.api();
        return pythonApi;
    } catch (error) {
        traceWarn(`The Python extension is installed but its API could not be used: ${String(error)}`);
        return undefined;
    }
}

/** Subscribes to interpreter changes in the Python extension, when it is there. */
export async function initializePython(disposables: Disposable[]): Promise<void> {
    const api = await getPythonExtensionApi();
    if (!api) {
        traceInfo(`The Python extension (${PYTHON_EXTENSION_ID}) is not installed; the interpreter comes from "shapelens.python" or PATH.`);
        return;
    }
    disposables.push(
        api.environments.onDidChangeActiveEnvironmentPath((e) => {
            traceInfo(`The Python extension selected ${e.path}`);
            onDidChangePythonInterpreterEvent.fire();
        }),
    );
}

async function fromPythonExtension(resource?: Uri): Promise<string | undefined> {
    const api = await getPythonExtensionApi();
    if (!api) {
        return undefined;
    }
    try {
        const active = api.environments.getActiveEnvironmentPath(resource);
        const environment = await api.environments.resolveEnvironment(active);
        return environment?.executable.uri?.fsPath;
    } catch (error) {
        traceError('Could not read the interpreter selected in the Python extension:', error);
        return undefined;
    }
}

export async function resolveInterpreter(resource?: Uri): Promise<Interpreter> {
    const fromSetting = getPythonSetting(resource);
    if (fromSetting) {
        return { path: fromSetting, source: 'setting' };
    }
    const selected = await fromPythonExtension(resource);
    if (selected) {
        // In Restricted Mode nothing from the workspace may run; an interpreter inside it (a
        // .venv) is the workspace's code. (A workspace value of shapelens.python is already
        // ignored there: the manifest lists it under restrictedConfigurations.)
        if (!workspace.isTrusted && isInsideWorkspace(selected)) {
            traceWarn(`Restricted Mode: not running ${selected}, which lies inside the workspace; using ${DEFAULT_PYTHON} until the workspace is trusted.`);
        } else {
            return { path: selected, source: 'python-extension' };
        }
    }
    return { path: DEFAULT_PYTHON, source: 'default' };
}

/** Runs `python -c ...` to learn its version: missing, too old, broken or fine. */
export function checkPython(python: string): Promise<PythonCheck> {
    const script = 'import sys; print(sys.version_info[0], sys.version_info[1])';
    return new Promise((resolve) => {
        execFile(python, ['-c', script], { timeout: 20_000, windowsHide: true }, (error, stdout, stderr) => {
            if (error) {
                const code = (error as NodeJS.ErrnoException).code;
                if (code === 'ENOENT' || code === 'EACCES') {
                    resolve({ ok: false, reason: 'missing', detail: `${python} was not found (${code})` });
                } else {
                    resolve({ ok: false, reason: 'broken', detail: `${python} failed: ${(stderr || error.message).trim()}` });
                }
                return;
            }
            const match = /^(\d+) (\d+)/.exec(stdout.trim());
            if (!match) {
                resolve({ ok: false, reason: 'broken', detail: `${python} printed ${JSON.stringify(stdout)} for its version` });
                return;
            }
            const version: [number, number] = [Number(match[1]), Number(match[2])];
            traceDebug(`${python} is Python ${version.join('.')}`);
            const tooOld = version[0] < MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] < MIN_PYTHON[1]);
            if (tooOld) {
                resolve({ ok: false, reason: 'too-old', version, detail: `${python} is Python ${version.join('.')}` });
            } else {
                resolve({ ok: true, version });
            }
        });
    });
}
