// "ShapeLens: Show Shape Summary" (also the server's "▦ summary" code lens): the "Shape Summary"
// view in the Panel area (beside Problems, Output, Terminal), a webview with torchinfo's table of
// the model and a diagram of its forward pass, both from the server's `shapelens/summary`
// request. The view follows its document: the server sends `shapelens/summaryChanged` after each
// (debounced) analysis and each probe, and the view asks again (once shown again, when hidden).
// Rows and diagram nodes reveal the line that defines them; "Copy as Markdown" copies the table.
import * as fs from 'fs';
import * as path from 'path';
import {
    commands,
    Disposable,
    env,
    ExtensionContext,
    Position,
    Range,
    Selection,
    TextEditorRevealType,
    Uri,
    ViewColumn,
    WebviewView,
    WebviewViewProvider,
    window,
    workspace,
} from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { traceError, traceInfo } from './log/logging';
import { FromWebview, SummaryAnswer, Target, ToWebview } from './summaryProtocol';
import { isRecord } from './utilities';

export const SUMMARY_REQUEST = 'shapelens/summary';
export const SUMMARY_CHANGED = 'shapelens/summaryChanged';
/** The "Shape Summary" view in the Panel area (package.json's `views`). */
export const SUMMARY_VIEW = 'shapelens.summary';
/** The context key of the view's `when`: true once the extension runs (a Python file was
 * opened), so the view's tab is in the Panel area before the first summary. Added by the first
 * command instead, it made the first summary of a window slower (bench/bench_summary_panel.py:
 * median 315 ms in 18 runs, against 257 ms in 6 with the tab there before). */
const ACTIVE_CONTEXT = 'shapelens.active';

/** The summary lives in a webview view of the Panel area, kept while hidden: a new webview
 * costs about 1 s in code-server before its page's first line runs, every time but the first
 * of a session, while showing a kept one again takes tens of ms (bench/bench_summary_panel.py).
 * An editor tab could not be kept: VS Code disposes a closed webview panel. */
export class SummaryView implements WebviewViewProvider, Disposable {
    private view: WebviewView | undefined;
    private client: LanguageClient | undefined;
    private listener: Disposable | undefined;
    private readonly registration: Disposable;
    private uri: string | undefined;
    private model: string | undefined;
    private position: Position | undefined;
    private input = '';
    private answer: SummaryAnswer | undefined;
    /** The answer is out of date: it was not asked while the view was hidden (VS Code's API
     * says a hidden webview gets no message, and no one looks at it). */
    private stale = false;
    private inFlight = false;
    private again = false;
    /** When the command ran, until the webview says it has drawn the answer. */
    private openedAt: number | undefined;
    /** The answer last posted to the page. */
    private posted: SummaryAnswer | undefined;
    private pageText: { script: string; style: string } | undefined;

    constructor(private readonly context: ExtensionContext) {
        this.registration = window.registerWebviewViewProvider(SUMMARY_VIEW, this, { webviewOptions: { retainContextWhenHidden: true } });
        void commands.executeCommand('setContext', ACTIVE_CONTEXT, true);
    }

    /** Follow a (new) language client: its summaryChanged notifications refresh the view. */
    attach(client: LanguageClient): void {
        this.listener?.dispose();
        this.client = client;
        this.listener = client.onNotification(SUMMARY_CHANGED, (params: unknown) => {
            if (isRecord(params) && params.uri === this.uri) {
                void this.refresh();
            }
        });
        void this.refresh();
    }

    /** The command: `(uri, className)` from the code lens, else the active editor's model at
     * the cursor. Shows the view (the Panel area opens if hidden), the focus stays put. */
    async show(uriArg?: unknown, classArg?: unknown): Promise<void> {
        this.openedAt = Date.now();
        const editor = window.activeTextEditor;
        const uri = typeof uriArg === 'string' ? uriArg : uriArg instanceof Uri ? uriArg.toString() : editor?.document.uri.toString();
        if (!uri) {
            void window.showInformationMessage('ShapeLens: open a Python file with a model to see its shape summary.');
            return;
        }
        const model = typeof classArg === 'string' ? classArg : undefined;
        const position = !model && editor?.document.uri.toString() === uri ? editor.selection.active : undefined;
        if (uri !== this.answer?.uri || (model ?? this.answer?.model) !== this.answer?.model || position) {
            this.answer = undefined; // another model: "Loading…" until its answer, not the last one
        }
        this.uri = uri;
        this.model = model;
        this.position = position;
        this.input = '';
        if (this.view) {
            this.view.description = this.model ?? path.basename(Uri.parse(uri).fsPath);
            if (!this.answer) {
                this.post({ type: 'loading', model: this.model });
            }
        }
        // Asked at once, while VS Code shows the view: a view it makes now gets the answer with
        // its page; a hidden one asks again when it is visible.
        const asked = this.refresh();
        await commands.executeCommand(`${SUMMARY_VIEW}.focus`, { preserveFocus: true });
        await asked;
    }

    /** VS Code calls this when the view is first shown (or after it disposed it): the page, and
     * the answer when there is one already. */
    resolveWebviewView(view: WebviewView): void {
        this.view = view;
        if (this.openedAt !== undefined) {
            traceInfo(`Shape summary view made ${Date.now() - this.openedAt} ms after the command`);
        }
        view.webview.options = { enableScripts: true, localResourceRoots: [] };
        if (this.model) {
            view.description = this.model;
        }
        const nonce = Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
        // The page's script and stylesheet are written into it: a webview fetches each file it
        // names through VS Code's resource loading; the page itself needs no file.
        const { script, style } = this.page();
        view.webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${style}</style>
<title>Shape Summary</title>
</head>
<body>
<div id="app"><p class="status">${this.uri ? 'Loading the shape summary…' : 'Run "ShapeLens: Show Shape Summary" or click "▦ summary" above a model class to see its shape summary here.'}</p></div>
<script nonce="${nonce}">${script}</script>
</body>
</html>`;
        view.webview.onDidReceiveMessage((message: FromWebview) => void this.received(message));
        // The server's answer usually came while VS Code made the view: posted now, the page gets
        // it as it loads (VS Code holds it until then), one round trip sooner than on 'ready'.
        this.posted = undefined;
        if (this.answer) {
            this.post({ type: 'summary', answer: this.answer, input: this.input });
        }
        view.onDidChangeVisibility(() => {
            if (view.visible && this.stale) {
                if (!this.answer) {
                    this.post({ type: 'loading', model: this.model });
                }
                void this.refresh();
            }
        });
        view.onDidDispose(() => {
            // Closed by the user: nothing to follow until the command runs again.
            this.view = undefined;
            this.answer = undefined;
            this.uri = undefined;
        });
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

    /** Ask the server again (one request at a time; a change meanwhile asks once more); while
     * the view is hidden, once it is shown again. */
    private async refresh(): Promise<void> {
        const client = this.client;
        if (!this.uri) {
            return;
        }
        if (this.view && !this.view.visible) {
            this.stale = true;
            return;
        }
        this.stale = false;
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
            if (!answer) {
                this.post({ type: 'error', message: 'ShapeLens has no analysis of this file: open it in an editor.' });
                return;
            }
            this.answer = answer;
            if (answer.model) {
                this.model = answer.model; // from now on, follow this model
                if (this.view) {
                    this.view.description = answer.model;
                }
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
        if (message.type === 'summary' && this.view) {
            this.posted = message.answer;
        }
        void this.view?.webview.postMessage(message);
    }

    private async received(message: FromWebview): Promise<void> {
        switch (message.type) {
            case 'ready':
                if (this.openedAt !== undefined) {
                    traceInfo(`Shape summary view ready ${Date.now() - this.openedAt} ms after the command (its page loaded in ${message.since ?? '?'} ms)`);
                }
                if (this.answer && this.answer !== this.posted) {
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
        this.registration.dispose();
    }
}

/** Opens the target in an editor (the one that shows its file, else the first), with its range
 * selected. */
async function reveal(target: Target): Promise<void> {
    const { start, end } = target.range;
    const range = new Range(start.line, start.character, end.line, end.character);
    const document = await workspace.openTextDocument(Uri.parse(target.uri));
    const visible = window.visibleTextEditors.find((e) => e.document.uri.toString() === target.uri);
    const editor = await window.showTextDocument(document, { viewColumn: visible?.viewColumn ?? ViewColumn.One, preserveFocus: false });
    editor.selection = new Selection(range.start, range.end);
    editor.revealRange(range, TextEditorRevealType.InCenterIfOutsideViewport);
}
