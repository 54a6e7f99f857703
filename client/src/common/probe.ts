// "ShapeLens: Probe Tensor Shapes": asks the server to run the model in the user's interpreter
// (workspace/executeCommand `shapelens.runProbe`) and reports the outcome. The server shows its
// own cancellable progress; the client shows "probing…" in the status bar while the request is
// outstanding, and "ShapeLens: Cancel Probe" (or a click on that item) cancels the request.
import * as path from 'path';
import { CancellationTokenSource, commands, Uri, window, workspace } from 'vscode';
import { ExecuteCommandRequest, LanguageClient, State } from 'vscode-languageclient/node';
import { Commands, PROBE_RUNNING_CONTEXT, SERVER_PROBE_COMMAND } from './constants';
import { traceError, traceInfo } from './log/logging';
import { getProbeSettings } from './settings';
import { StatusBar } from './status';
import { isRecord } from './utilities';

export type ProbeStatus = 'ok' | 'error' | 'timeout' | 'crashed' | 'no-torch' | 'cancelled' | 'refused' | 'oom';

export interface ProbeArguments {
    uri: string;
    device?: string;
    timeoutSeconds?: number;
    className?: string;
}

export interface ProbeReply {
    status: ProbeStatus;
    message: string;
    device?: string;
}

/** Extra time the client waits beyond the probe's own timeout (interpreter start, torch import,
 * reporting) before it gives up on the server's answer. */
const CLIENT_GRACE_SECONDS = 120;
/** The watchdog's budget when the timeout comes from the project file (the server enforces it). */
const UNSET_TIMEOUT_SECONDS = 3600;

const UNTRUSTED_MESSAGE =
    'ShapeLens: the probe runs your model code with your Python interpreter, so it is disabled in Restricted Mode. ' +
    'Shapes and shape errors from the static analysis still work. Trust this workspace to use the probe.';

export class ProbeController {
    private running: CancellationTokenSource | undefined;

    constructor(
        private readonly getClient: () => LanguageClient | undefined,
        private readonly status: StatusBar,
    ) {}

    /** The command `shapelens.probe`, also run by the server's "▶ probe" code lenses with
     * `(uri, className)`. */
    async run(uriArg?: unknown, classArg?: unknown): Promise<ProbeReply | undefined> {
        if (!workspace.isTrusted) {
            void window.showWarningMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust').then((choice) => {
                if (choice) {
                    void commands.executeCommand('workbench.trust.manage');
                }
            });
            return undefined;
        }
        const uri = toUri(uriArg) ?? window.activeTextEditor?.document.uri;
        const document = uri && workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        if (!uri || (document && document.languageId !== 'python')) {
            void window.showInformationMessage('ShapeLens: open a Python file with a model to probe its tensor shapes.');
            return undefined;
        }
        const client = this.getClient();
        if (!client || client.state !== State.Running) {
            void window.showErrorMessage('ShapeLens: the server is not running, so the probe cannot start.', 'Show Output').then(
                (choice) => choice && commands.executeCommand(Commands.showOutput),
            );
            return undefined;
        }
        const offered = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
        if (!offered.includes(SERVER_PROBE_COMMAND)) {
            void window.showErrorMessage('ShapeLens: this server does not offer the probe.');
            return undefined;
        }
        if (this.running) {
            void window.showInformationMessage('ShapeLens: a probe is already running.');
            return undefined;
        }

        // Device and timeout only when set in the editor: else the server takes them from the
        // project's [tool.shapelens], or its defaults.
        const settings = getProbeSettings(uri);
        const args: ProbeArguments = { uri: uri.toString(), device: settings.device, timeoutSeconds: settings.timeoutSeconds };
        if (typeof classArg === 'string' && classArg) {
            args.className = classArg;
        }
        const target = args.className ? `${args.className} in ${path.basename(uri.fsPath)}` : path.basename(uri.fsPath);

        const source = new CancellationTokenSource();
        this.running = source;
        const watchdog = setTimeout(() => source.cancel(), ((settings.timeoutSeconds ?? UNSET_TIMEOUT_SECONDS) + CLIENT_GRACE_SECONDS) * 1000);
        this.status.setProbing(target);
        void commands.executeCommand('setContext', PROBE_RUNNING_CONTEXT, true);
        traceInfo(`Probe ${target} on ${settings.device ?? 'the configured device'} (timeout ${settings.timeoutSeconds ?? 'as configured'} s)`);
        let reply: ProbeReply;
        try {
            const raw: unknown = await client.sendRequest(
                ExecuteCommandRequest.type,
                { command: SERVER_PROBE_COMMAND, arguments: [args] },
                source.token,
            );
            reply = toReply(raw);
        } catch (error) {
            if (source.token.isCancellationRequested) {
                reply = { status: 'cancelled', message: 'probe cancelled' };
            } else {
                traceError('Probe request failed:', error);
                reply = { status: 'crashed', message: `the probe request failed: ${error instanceof Error ? error.message : String(error)}` };
            }
        } finally {
            clearTimeout(watchdog);
            source.dispose();
            this.running = undefined;
            this.status.setProbing(undefined);
            void commands.executeCommand('setContext', PROBE_RUNNING_CONTEXT, false);
        }
        traceInfo(`Probe ${target}: ${reply.status}: ${reply.message}`);
        showReply(reply);
        return reply;
    }

    cancel(): void {
        this.running?.cancel();
    }

    get isRunning(): boolean {
        return this.running !== undefined;
    }
}

function toUri(value: unknown): Uri | undefined {
    if (value instanceof Uri) {
        return value;
    }
    if (typeof value === 'string' && value) {
        return Uri.parse(value);
    }
    return undefined;
}

function toReply(raw: unknown): ProbeReply {
    if (isRecord(raw) && typeof raw['status'] === 'string') {
        return {
            status: raw['status'] as ProbeStatus,
            message: typeof raw['message'] === 'string' ? raw['message'] : '',
            device: typeof raw['device'] === 'string' ? raw['device'] : undefined,
        };
    }
    return { status: 'crashed', message: `unexpected answer from the server: ${JSON.stringify(raw)}` };
}

function showReply(reply: ProbeReply): void {
    const text = `ShapeLens probe${reply.device ? ` (${reply.device})` : ''}: ${reply.message || reply.status}`;
    switch (reply.status) {
        case 'ok':
            void window.showInformationMessage(text);
            return;
        case 'no-torch':
            void window.showWarningMessage(text, 'Choose Interpreter').then((choice) => {
                if (choice) {
                    void commands.executeCommand('workbench.action.openSettings', 'shapelens.python');
                }
            });
            return;
        case 'cancelled':
        case 'refused':
            void window.showWarningMessage(text);
            return;
        default:
            void window.showErrorMessage(text, 'Show Output').then((choice) => {
                if (choice) {
                    void commands.executeCommand(Commands.showOutput);
                }
            });
    }
}
