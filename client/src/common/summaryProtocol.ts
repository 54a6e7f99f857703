// The shape summary as the server's `shapelens/summary` request answers it (see
// server/shapelens/server/summary.py), and the messages between the panel and its webview.
// Shared by the extension (summary.ts) and the webview script (client/webview/summary.ts).

/** A dim: a size, a Python expression over symbolic sizes ("H - 2"), or null when not known. */
export type Dim = number | string | null;
export type Shape = Dim[] | null;

export interface Target {
    uri: string;
    range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

export interface Diagnostic {
    code: string;
    message: string;
    severity: string;
    range: { start: { line: number; column: number } };
    target?: Target | null;
}

export interface Row {
    path: string;
    name: string;
    type: string;
    depth: number;
    depth_index: number;
    label: string;
    input: Shape;
    output: Shape;
    params_text: string;
    trainable: string;
    mult_adds_text: string;
    leaf: boolean;
    called: boolean;
    recursive: boolean;
    call: number;
    status: 'ok' | 'failed' | 'incomplete';
    diagnostic: Diagnostic | null;
    target: Target | null;
    probed: Shape[];
}

export interface FlowNode {
    kind: 'input' | 'layer' | 'op' | 'output';
    label: string;
    inputs: number[];
    output: Shape;
    group: number;
    call: number;
    diagnostic: Diagnostic | null;
    target: Target | null;
    probed: Shape[];
}

export interface Summary {
    model: string;
    source: string;
    input_text: string;
    depth: number;
    rows: Row[];
    totals: { lines: string[] };
    failure: Diagnostic | null;
    notes: string[];
    flow: FlowNode[];
    calls: { path: string; type: string; parent: number }[];
    probe_device: string | null;
}

export interface SummaryAnswer {
    uri: string;
    version: number | null;
    models: string[];
    model: string | null;
    summary: Summary | null;
    markdown: string;
    message?: string;
}

/** Extension -> webview. */
export type ToWebview =
    | { type: 'summary'; answer: SummaryAnswer; input: string }
    | { type: 'loading'; model?: string }
    | { type: 'error'; message: string };

/** Webview -> extension. */
export type FromWebview =
    | { type: 'ready'; since?: number }
    | { type: 'reveal'; target: Target }
    | { type: 'copy' }
    | { type: 'select'; model: string }
    | { type: 'input'; text: string }
    | { type: 'rendered'; version: number | null; rows: number; nodes: number };
