// Creating, starting and stopping the language client. The server is `<python> -m
// shapelens.server` on stdio, with the bundled libraries (the shapelens package, pygls,
// lsprotocol, …, put in bundled/libs by scripts/build-vsix.sh) first on PYTHONPATH, so it runs on
// any Python 3.10+ with nothing installed. torch is never bundled: the probe uses the user's.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ExtensionContext, LogOutputChannel, Uri, workspace } from 'vscode';
import {
    DocumentSelector,
    Executable,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
} from 'vscode-languageclient/node';
import { BUNDLED_LIBS_DIR, SERVER_ID, SERVER_MODULE, SERVER_NAME } from './constants';
import { traceInfo, traceWarn } from './log/logging';
import { getServerSettings, resolvePushedSettings } from './settings';
import { isRecord } from './utilities';

export interface InitializationOptions {
    settings: Record<string, unknown>;
    workspaceTrusted: boolean;
}

const DOCUMENT_SELECTOR: DocumentSelector = [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    // Cells of Jupyter notebooks: synchronised as notebooks when the server asks for that.
    { notebook: '*', language: 'python' },
];

export function serverEnvironment(extensionPath: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
    const bundled = path.join(extensionPath, ...BUNDLED_LIBS_DIR);
    if (fs.existsSync(path.join(bundled, 'shapelens'))) {
        env.PYTHONPATH = [bundled, env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    } else {
        // A development checkout without scripts/build-vsix.sh having run: the interpreter must
        // have shapelens installed itself (pip install -e .).
        traceWarn(`No bundled server in ${bundled}; importing shapelens from the interpreter's environment.`);
    }
    return env;
}

/** Whether this installation carries the server libraries (scripts/bundle-server.sh). */
export function hasBundledServer(extensionPath: string): boolean {
    return fs.existsSync(path.join(extensionPath, ...BUNDLED_LIBS_DIR, 'shapelens'));
}

export type ImportCheck = { ok: true } | { ok: false; missing?: string; detail: string };

/** Imports the server's modules with `interpreter` exactly as the server will start (same
 * environment and folder), so a failure is explained before the language client tries. */
export function checkServerImports(interpreter: string, extensionPath: string): Promise<ImportCheck> {
    const script = `import ${SERVER_MODULE}.server, pygls, lsprotocol`;
    return new Promise((resolve) => {
        execFile(
            interpreter,
            ['-c', script],
            { cwd: extensionPath, env: serverEnvironment(extensionPath), timeout: 60_000, windowsHide: true },
            (error, _stdout, stderr) => {
                if (!error) {
                    resolve({ ok: true });
                    return;
                }
                const lines = String(stderr).trim().split(/\r?\n/);
                const last = lines[lines.length - 1] || error.message;
                const missing = /No module named '([^']+)'/.exec(last)?.[1];
                resolve({ ok: false, missing, detail: last.trim() });
            },
        );
    });
}

/** What the user reads when the interpreter cannot import the server: which interpreter, what
 * is missing, and what to do. */
export function serverImportMessage(
    interpreter: string,
    origin: string,
    version: string,
    check: { missing?: string; detail: string },
    bundledDir: string | undefined,
): string {
    const which = `"${interpreter}" (Python ${version}, from ${origin})`;
    const what = check.missing ? `cannot import the module '${check.missing}'` : `failed: ${check.detail}`;
    if (!bundledDir) {
        return (
            `ShapeLens cannot start its language server: ${which} ${what}, and this installation of ` +
            `the extension has no bundled server libraries. Install a .vsix built with "npm run package" ` +
            `(it bundles them), or install ShapeLens into that interpreter ("${interpreter} -m pip install ` +
            `shapelens", or the wheel you built), or choose another interpreter with the "shapelens.python" setting.`
        );
    }
    return (
        `ShapeLens cannot start its language server: with the bundled libraries in ${bundledDir}, ${which} ` +
        `${what}. Reinstall the extension, or choose another Python 3.10+ interpreter with the "shapelens.python" setting.`
    );
}

export function createServer(
    context: ExtensionContext,
    interpreter: string,
    outputChannel: LogOutputChannel,
): LanguageClient {
    const run: Executable = {
        command: interpreter,
        args: ['-m', SERVER_MODULE],
        // Not the workspace: `-m` puts the current directory first on sys.path, and a user's
        // `logging.py` or `attr/` there would shadow what the server imports.
        options: { cwd: context.extensionPath, env: serverEnvironment(context.extensionPath) },
    };
    const serverOptions: ServerOptions = { run, debug: run };
    traceInfo(`Server command: ${interpreter} -m ${SERVER_MODULE}`);

    const initializationOptions: InitializationOptions = {
        settings: getServerSettings(),
        workspaceTrusted: workspace.isTrusted,
    };

    const clientOptions: LanguageClientOptions = {
        documentSelector: DOCUMENT_SELECTOR,
        outputChannel,
        traceOutputChannel: outputChannel,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions,
        synchronize: { configurationSection: SERVER_ID },
        middleware: {
            workspace: {
                // The server pulls the `shapelens` section: hand it what the user set (a
                // project's [tool.shapelens] fills in the rest), `python` as a real path.
                configuration: async (params, token, next) => {
                    const values = await next(params, token);
                    if (!Array.isArray(values)) {
                        return values;
                    }
                    return values.map((value: unknown, i: number) => {
                        const item = params.items[i];
                        if (item?.section === SERVER_ID && isRecord(value)) {
                            const scope = item.scopeUri ? Uri.parse(item.scopeUri) : undefined;
                            return getServerSettings(scope);
                        }
                        return value;
                    });
                },
            },
            sendNotification: async (type, next, params) => {
                const method = typeof type === 'string' ? type : type.method;
                if (method === 'workspace/didChangeConfiguration') {
                    return next(type, resolvePushedSettings(params) as typeof params);
                }
                return next(type, params);
            },
        },
    };

    return new LanguageClient(SERVER_ID, SERVER_NAME, serverOptions, clientOptions);
}
