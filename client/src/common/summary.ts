// "ShapeLens: Show Shape Summary" (also the server's "▦ summary" code lens): a webview panel with
// torchinfo's table of the model and a diagram of its forward pass, both from the server's
// `shapelens/summary` request. The panel follows its document: the server sends
// `shapelens/summaryChanged` after each (debounced) analysis and each probe, and the panel asks
// again. Rows and diagram nodes reveal the line that defines them; "Copy as Markdown" copies
// the table.
import * as fs from 'fs';
import * as path from 'path';
import {
    Disposable,
    env,
    ExtensionContext,
    Position,
    Range,
    Selection,
    TextEditorRevealType,
    Uri,
    ViewColumn,
    WebviewPanel,
    window,
    workspace,
} from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { traceError, traceInfo } from './log/logging';
import { FromWebview, SummaryAnswer, Target, ToWebview } from './summaryProtocol';
import { isRecord } from './utilities';

export const SUMMARY_REQUEST = 'shapelens/summary';
export const SUMMARY_CHANGED = 'shapelens/summaryChanged';
const VIEW_TYPE = 'shapelens.summary';

export class SummaryPanel implements Disposable {
    private panel: WebviewPanel | undefined;
    private client: LanguageClient | undefined;
    private listener: Disposable | undefined;
    private uri: string | undefined;
    private model: string | undefined;
    private position: Position | undefined;
    private input = '';
    private answer: SummaryAnswer | undefined;
    private inFlight = false;
    private again = false;
    /** When the command ran, until the webview says it has drawn the answer. */
    private openedAt: number | undefined;
    private pageText: { script: string; style: string } | undefined;

    constructor(private readonly context: ExtensionContext) {}

    /** Follow a (new) language client: its summaryChanged notifications refresh the panel. */
    attach(client: LanguageClient): void {
        this.listener?.dispose();
        this.client = client;
        this.listener = client.onNotification(SUMMARY_CHANGED, (params: unknown) => {
            if (this.panel && isRecord(params) && params.uri === this.uri) {
                void this.refresh();
            }
        });
        if (this.panel) {
            void this.refresh();
        }
    }

    /** The command: `(uri, className)` from the code lens, else the active editor's model at
     * the cursor. */
    async show(uriArg?: unknown, classArg?: unknown): Promise<void> {
        this.openedAt = Date.now();
        const editor = window.activeTextEditor;
        const uri = typeof uriArg === 'string' ? uriArg : uriArg instanceof Uri ? uriArg.toString() : editor?.document.uri.toString();
        if (!uri) {
            void window.showInformationMessage('ShapeLens: open a Python file with a model to see its shape summary.');
            return;
        }
        this.uri = uri;
        this.model = typeof classArg === 'string' ? classArg : undefined;
        this.position = !this.model && editor?.document.uri.toString() === uri ? editor.selection.active : undefined;
        this.input = '';
        if (this.panel) {
            this.panel.reveal(undefined, true);
        } else {
            this.panel = this.createPanel();
        }
        this.panel.title = `Shape Summary: ${this.model ?? path.basename(Uri.parse(uri).fsPath)}`;
        this.post({ type: 'loading', model: this.model });
        await this.refresh();
    }

    private createPanel(): WebviewPanel {
        const panel = window.createWebviewPanel(
            VIEW_TYPE,
            'Shape Summary',
            { viewColumn: ViewColumn.Beside, preserveFocus: true },
            { enableScripts: true, localResourceRoots: [] },
        );
        panel.iconPath = Uri.joinPath(this.context.extensionUri, 'images', 'icon.png');
        const nonce = Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
        // The page's script and stylesheet are written into it: a webview fetches each file it
        // names through VS Code's resource loading, which took ~1 s per new panel in code-server
        // (bench/bench_summary_panel.py); the page itself needs no file.
        const { script, style } = this.page();
        panel.webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${style}</style>
<title>Shape Summary</title>
</head>
<body>
<div id="app"><p class="status">Loading the shape summary…</p></div>
<script nonce="${nonce}">${script}</script>
</body>
</html>`;
        panel.webview.onDidReceiveMessage((message: FromWebview) => void this.received(message));
        panel.onDidDispose(() => {
            this.panel = undefined;
            this.answer = undefined;
        });
        return panel;
    }

    /** dist/summary.js and dist/summary.css, read once; ``</`` kept from closing the element. */
    private page(): { script: string; style: string } {
        if (!this.pageText) {
            const read = (name: string) => fs.readFileSync(path.join(this.context.extensionPath, 'dist', name), 'utf8');
            this.pageText = {
                script: read('summary.js').replace(/<\/script/gi, '<\\/script'),
                style: read('summary.css').replace(/<\/style/gi, '<\\/style'),
            };
        }
        return this.pageText;
    }

    /** Ask the server again (one request at a time; a change meanwhile asks once more). */
    private async refresh(): Promise<void> {
        const client = this.client;
        if (!this.panel || !this.uri) {
            return;
        }
        if (!client || client.state !== State.Running) {
            this.post({ type: 'error', message: 'The ShapeLens server is not running.' });
            return;
        }
        if (this.inFlight) {
            this.again = true;
            return;
        }
        this.inFlight = true;
        try {
            const params: Record<string, unknown> = { textDocument: { uri: this.uri } };
            if (this.model) {
                params.model = this.model;
            } else if (this.position) {
                params.position = { line: this.position.line, character: this.position.character };
            }
            if (this.input) {
                params.input = this.input;
            }
            const asked = Date.now();
            const answer = (await client.sendRequest(SUMMARY_REQUEST, params)) as SummaryAnswer | null;
            if (this.openedAt !== undefined) {
                traceInfo(`shapelens/summary answered in ${Date.now() - asked} ms`);
            }
            if (!this.panel) {
                return;
            }
            if (!answer) {
                this.post({ type: 'error', message: 'ShapeLens has no analysis of this file: open it in an editor.' });
                return;
            }
            this.answer = answer;
            if (answer.model) {
                this.model = answer.model; // from now on, follow this model
                this.panel.title = `Shape Summary: ${answer.model}`;
            }
            this.post({ type: 'summary', answer, input: this.input });
        } catch (error) {
            traceError('shapelens/summary failed:', error);
            this.post({ type: 'error', message: `The summary request failed: ${error instanceof Error ? error.message : String(error)}` });
        } finally {
            this.inFlight = false;
            if (this.again) {
                this.again = false;
                void this.refresh();
            }
        }
    }

    private post(message: ToWebview): void {
        void this.panel?.webview.postMessage(message);
    }

    private async received(message: FromWebview): Promise<void> {
        switch (message.type) {
            case 'ready':
                if (this.openedAt !== undefined) {
                    traceInfo(`Shape summary panel ready ${Date.now() - this.openedAt} ms after the command (its page loaded in ${message.since ?? '?'} ms)`);
                }
                if (this.answer) {
                    this.post({ type: 'summary', answer: this.answer, input: this.input });
                }
                break;
            case 'reveal':
                await reveal(message.target);
                break;
            case 'copy':
                if (this.answer?.markdown) {
                    await env.clipboard.writeText(this.answer.markdown);
                    void window.showInformationMessage(`ShapeLens: the shape summary of ${this.answer.model} is on the clipboard (Markdown).`);
                }
                break;
            case 'select':
                this.model = message.model;
                await this.refresh();
                break;
            case 'input':
                this.input = message.text.trim();
                await this.refresh();
                break;
            case 'rendered':
                if (this.openedAt !== undefined) {
                    traceInfo(`Shape summary of ${this.answer?.model ?? '?'} shown ${Date.now() - this.openedAt} ms after the command (${message.rows} rows, ${message.nodes} diagram nodes)`);
                    this.openedAt = undefined;
                }
                break;
        }
    }

    dispose(): void {
        this.listener?.dispose();
        this.panel?.dispose();
    }
}

/** Opens the target in the editor column beside the panel, with its range selected. */
async function reveal(target: Target): Promise<void> {
    const { start, end } = target.range;
    const range = new Range(start.line, start.character, end.line, end.character);
    const document = await workspace.openTextDocument(Uri.parse(target.uri));
    const visible = window.visibleTextEditors.find((e) => e.document.uri.toString() === target.uri);
    const editor = await window.showTextDocument(document, { viewColumn: visible?.viewColumn ?? ViewColumn.One, preserveFocus: false });
    editor.selection = new Selection(range.start, range.end);
    editor.revealRange(range, TextEditorRevealType.InCenterIfOutsideViewport);
}
