// One status bar item: the server's state (starting, running, stopped, no usable Python) and,
// while a probe runs, "probing…" (a click then cancels it). Otherwise a click shows the output.
import { Disposable, MarkdownString, StatusBarAlignment, StatusBarItem, ThemeColor, window } from 'vscode';
import { Commands, SERVER_NAME } from './constants';

export type ServerState = 'starting' | 'running' | 'stopped' | 'failed' | 'no-python';

export class StatusBar implements Disposable {
    private readonly item: StatusBarItem;
    private state: ServerState = 'starting';
    private detail = '';
    private interpreter = '';
    private probing: string | undefined;

    constructor() {
        this.item = window.createStatusBarItem('shapelens.status', StatusBarAlignment.Left, 10);
        this.item.name = SERVER_NAME;
        this.render();
        this.item.show();
    }

    setState(state: ServerState, detail = ''): void {
        this.state = state;
        this.detail = detail;
        this.render();
    }

    setInterpreter(description: string): void {
        this.interpreter = description;
        this.render();
    }

    /** `target` names what is probed (a file, a class); undefined when the probe ended. */
    setProbing(target: string | undefined): void {
        this.probing = target;
        this.render();
    }

    private render(): void {
        const item = this.item;
        item.backgroundColor = undefined;
        item.command = Commands.showOutput;
        const tooltip = new MarkdownString(undefined, true);
        if (this.probing) {
            item.text = `$(loading~spin) ${SERVER_NAME}: probing…`;
            item.command = Commands.cancelProbe;
            tooltip.appendMarkdown(`Probing **${escape(this.probing)}**. Click to cancel.`);
        } else {
            switch (this.state) {
                case 'starting':
                    item.text = `$(loading~spin) ${SERVER_NAME}`;
                    tooltip.appendMarkdown('Server starting…');
                    break;
                case 'running':
                    item.text = `$(symbol-array) ${SERVER_NAME}`;
                    tooltip.appendMarkdown('Server running.');
                    break;
                case 'stopped':
                    item.text = `$(debug-stop) ${SERVER_NAME}`;
                    tooltip.appendMarkdown('Server stopped.');
                    break;
                case 'failed':
                case 'no-python':
                    item.text = `$(error) ${SERVER_NAME}`;
                    item.backgroundColor = new ThemeColor('statusBarItem.errorBackground');
                    tooltip.appendMarkdown(this.state === 'no-python' ? 'No usable Python.' : 'Server failed.');
                    break;
            }
        }
        if (this.detail && !this.probing) {
            tooltip.appendMarkdown(`\n\n${escape(this.detail)}`);
        }
        if (this.interpreter) {
            tooltip.appendMarkdown(`\n\nPython: \`${this.interpreter.replace(/`/g, "'")}\``);
        }
        item.tooltip = tooltip;
        item.accessibilityInformation = { label: `${SERVER_NAME}: ${this.probing ? 'probing' : this.state}` };
    }

    dispose(): void {
        this.item.dispose();
    }
}

function escape(text: string): string {
    return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}
