// The client's log: one LogOutputChannel ("ShapeLens"), shared with the language client, so the
// server's stderr, its window/logMessage notifications, the LSP trace and the client's own lines
// are read in one place. Its level is VS Code's ("Developer: Set Log Level…"); the server's own
// verbosity is the `shapelens.logLevel` setting.
import * as util from 'util';
import { Disposable, LogOutputChannel } from 'vscode';

let channel: LogOutputChannel | undefined;

export function registerLogger(outputChannel: LogOutputChannel): Disposable {
    channel = outputChannel;
    return new Disposable(() => {
        channel = undefined;
    });
}

function format(args: unknown[]): string {
    return args.map((a) => (typeof a === 'string' ? a : util.inspect(a, { depth: 4 }))).join(' ');
}

export function traceError(...args: unknown[]): void {
    channel?.error(format(args));
}

export function traceWarn(...args: unknown[]): void {
    channel?.warn(format(args));
}

export function traceInfo(...args: unknown[]): void {
    channel?.info(format(args));
}

export function traceDebug(...args: unknown[]): void {
    channel?.debug(format(args));
}
