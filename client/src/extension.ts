// ShapeLens extension entry point: starts the ShapeLens language server with the right Python,
// restarts it when that interpreter changes, and contributes the probe, shape summary, restart
// and output commands. Laid out like the Microsoft Python tools extension template (src/common/*).
import * as vscode from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { BUNDLED_LIBS_DIR, Commands, MIN_PYTHON, SERVER_NAME } from './common/constants';
import { registerLogger, traceError, traceInfo } from './common/log/logging';
import { ProbeController } from './common/probe';
import { checkPython, initializePython, onDidChangePythonInterpreter, resolveInterpreter } from './common/python';
import { checkServerImports, createServer, hasBundledServer, serverImportMessage } from './common/server';
import { getPythonSetting, needsRestart } from './common/settings';
import { StatusBar } from './common/status';
import { SummaryView } from './common/summary';

let lsClient: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const outputChannel = vscode.window.createOutputChannel(SERVER_NAME, { log: true });
    context.subscriptions.push(outputChannel, registerLogger(outputChannel));
    traceInfo(`${SERVER_NAME} ${String(context.extension.packageJSON.version)} activating (VS Code ${vscode.version})`);

    const status = new StatusBar();
    const probe = new ProbeController(() => lsClient, status);
    const summary = new SummaryView(context);
    context.subscriptions.push(status, summary);

    // Restarts are queued one after another, and a burst of requests is one restart.
    let queue: Promise<void> = Promise.resolve();
    let pending = false;
    const runServer = (reason: string): Promise<void> => {
        if (pending) {
            return queue;
        }
        pending = true;
        queue = queue.then(async () => {
            pending = false;
            traceInfo(`Starting the server (${reason})`);
            probe.cancel();
            await restartServer(context, outputChannel, status);
            if (lsClient) {
                summary.attach(lsClient);
            }
        });
        return queue;
    };

    context.subscriptions.push(
        vscode.commands.registerCommand(Commands.probe, (uri?: unknown, className?: unknown) => probe.run(uri, className)),
        vscode.commands.registerCommand(Commands.showSummary, (uri?: unknown, className?: unknown) => summary.show(uri, className)),
        vscode.commands.registerCommand(Commands.cancelProbe, () => probe.cancel()),
        vscode.commands.registerCommand(Commands.restart, () => runServer('restart command')),
        vscode.commands.registerCommand(Commands.showOutput, () => outputChannel.show(true)),
        vscode.workspace.onDidChangeConfiguration((e) => {
            // Every other setting reaches the running server through
            // workspace/didChangeConfiguration; only the interpreter needs a new process.
            if (needsRestart(e)) {
                void runServer('shapelens.python changed');
            }
        }),
        onDidChangePythonInterpreter(() => {
            if (!getPythonSetting()) {
                void runServer('the Python extension selected another interpreter');
            }
        }),
        // Trust changes what may run (the probe; an interpreter inside the workspace).
        vscode.workspace.onDidGrantWorkspaceTrust(() => void runServer('workspace trusted')),
    );

    await initializePython(context.subscriptions);
    await runServer('activation');
}

export async function deactivate(): Promise<void> {
    const client = lsClient;
    lsClient = undefined;
    if (client) {
        await client.dispose();
    }
}

/** An error toast for a server that cannot start, with the two ways forward. */
function showStartError(message: string, outputChannel: vscode.LogOutputChannel): void {
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output').then((choice) => {
        if (choice === 'Open Settings') {
            void vscode.commands.executeCommand('workbench.action.openSettings', 'shapelens.python');
        } else if (choice === 'Show Output') {
            outputChannel.show(true);
        }
    });
}

/** Stops the current server (if any) and starts a new one; `lsClient` is the new one, or undefined
 * when no usable Python was found. */
async function restartServer(
    context: vscode.ExtensionContext,
    outputChannel: vscode.LogOutputChannel,
    status: StatusBar,
): Promise<void> {
    const previous = lsClient;
    lsClient = undefined; // from here on, the old client's state changes are not shown
    if (previous) {
        try {
            await previous.dispose();
        } catch (error) {
            traceError('Stopping the previous server failed:', error);
        }
    }
    status.setState('starting');

    const interpreter = await resolveInterpreter();
    const origin = {
        setting: 'the shapelens.python setting',
        'python-extension': 'the Python extension',
        default: 'PATH',
    }[interpreter.source];
    traceInfo(`Python: ${interpreter.path} (from ${origin})`);
    const check = await checkPython(interpreter.path);
    if (!check.ok) {
        const needed = `ShapeLens needs Python ${MIN_PYTHON.join('.')} or newer`;
        const message =
            check.reason === 'missing'
                ? `${needed}, but no Python interpreter was found at "${interpreter.path}" (from ${origin}). Install Python, select an interpreter in the Python extension, or set "shapelens.python".`
                : check.reason === 'too-old'
                  ? `${needed}, but "${interpreter.path}" (from ${origin}) is Python ${check.version?.join('.')}. Select a newer interpreter or set "shapelens.python".`
                  : `${needed}; "${interpreter.path}" (from ${origin}) could not be run: ${check.detail}`;
        traceError(message);
        status.setInterpreter(interpreter.path);
        status.setState('no-python', message);
        showStartError(message, outputChannel);
        return;
    }
    status.setInterpreter(`${interpreter.path} (Python ${check.version.join('.')})`);

    // Without this, a missing module only shows as "couldn't create connection to server".
    const imports = await checkServerImports(interpreter.path, context.extensionPath);
    if (!imports.ok) {
        const bundled = hasBundledServer(context.extensionPath)
            ? vscode.Uri.joinPath(context.extensionUri, ...BUNDLED_LIBS_DIR).fsPath
            : undefined;
        const message = serverImportMessage(interpreter.path, origin, check.version.join('.'), imports, bundled);
        traceError(message);
        status.setState('failed', message);
        showStartError(message, outputChannel);
        return;
    }

    const client = createServer(context, interpreter.path, outputChannel);
    lsClient = client;
    client.onDidChangeState((e) => {
        if (client !== lsClient) {
            return;
        }
        if (e.newState === State.Running) {
            status.setState('running');
        } else if (e.newState === State.Starting) {
            status.setState('starting');
        } else {
            status.setState('stopped', 'The server stopped. Run "ShapeLens: Restart Server" to start it again.');
        }
    });
    try {
        await client.start();
        traceInfo(`Server running (${client.initializeResult?.serverInfo?.name ?? 'shapelens'} ${client.initializeResult?.serverInfo?.version ?? ''})`);
    } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        traceError('The server failed to start:', text);
        status.setState('failed', text);
        void vscode.window.showErrorMessage(`ShapeLens: the server failed to start: ${text}`, 'Show Output').then((choice) => {
            if (choice) {
                outputChannel.show(true);
            }
        });
    }
}
