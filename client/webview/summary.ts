// The Shape Summary view's page: torchinfo's table and a diagram of the forward pass (one node per
// layer call or tensor operation, with its output shape; edges for the data flow; the module
// calls as nested boxes), laid out with dagre. It only draws what the extension posts (the
// server's `shapelens/summary` answer) and posts back what the user does.
import * as dagre from '@dagrejs/dagre';
import type { FlowNode, FromWebview, Row, Shape, SummaryAnswer, ToWebview } from '../src/common/summaryProtocol';
import './summary.css';

interface VsCodeApi {
    postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const SVG = 'http://www.w3.org/2000/svg';
const MAX_DIAGRAM_NODES = 1500;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
        node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
}

function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) {
        node.setAttribute(key, String(value));
    }
    node.append(...children);
    return node;
}

function formatShape(shape: Shape): string {
    if (shape === null) {
        return '[?]';
    }
    return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** The model drawn last: a new answer for it (after an edit) keeps the panes' scroll. */
let drawnModel: string | null = null;

function render(answer: SummaryAnswer, input: string): { rows: number; nodes: number } {
    const scrolled = answer.model === drawnModel ? Array.from(app.querySelectorAll<HTMLElement>('.pane, #diagram')).map((p) => [p.scrollTop, p.scrollLeft]) : [];
    drawnModel = answer.model;
    app.replaceChildren();
    app.append(header(answer, input));
    const summary = answer.summary;
    if (!summary) {
        app.append(el('p', { class: 'status' }, answer.message ?? 'No summary.'));
        return { rows: 0, nodes: 0 };
    }
    if (summary.failure) {
        const f = summary.failure;
        const banner = el('div', { class: 'failure', role: 'alert' },
            el('strong', {}, `✗ line ${f.range.start.line}: ${f.code}`), ' ', f.message);
        if (f.target) {
            const target = f.target;
            banner.classList.add('link');
            banner.addEventListener('click', () => vscode.postMessage({ type: 'reveal', target }));
        }
        app.append(banner);
    }
    // The table and the diagram: side by side when the view is wide (the Panel area), one
    // above the other when it is narrow (a side bar); summary.css decides.
    const tablePane = el('div', { class: 'pane' });
    const diagramPane = el('div', { class: 'pane' });
    app.append(el('div', { class: 'panes' }, tablePane, diagramPane));
    tablePane.append(table(summary.rows, summary.probe_device));
    tablePane.append(el('ul', { class: 'totals' }, ...summary.totals.lines.map((line) => el('li', {}, line))));
    for (const note of summary.notes) {
        tablePane.append(el('p', { class: 'note' }, `note: ${note}`));
    }
    const nodes = diagram(diagramPane, summary.flow, summary.calls);
    app.querySelectorAll<HTMLElement>('.pane, #diagram').forEach((pane, k) => {
        [pane.scrollTop, pane.scrollLeft] = scrolled[k] ?? [0, 0];
    });
    return { rows: summary.rows.length, nodes };
}

function header(answer: SummaryAnswer, input: string): HTMLElement {
    const bar = el('div', { class: 'toolbar' });
    const select = el('select', { id: 'model', 'aria-label': 'Model' });
    for (const name of answer.models) {
        const option = el('option', { value: name }, name);
        if (name === answer.model) {
            option.selected = true;
        }
        select.append(option);
    }
    select.addEventListener('change', () => vscode.postMessage({ type: 'select', model: select.value }));
    const field = el('input', { id: 'input-shape', type: 'text', placeholder: 'input, e.g. [N, 3, 224, 224]', 'aria-label': 'Input shape', value: input });
    field.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
            vscode.postMessage({ type: 'input', text: field.value });
        }
    });
    const copy = el('button', { id: 'copy-markdown', type: 'button' }, 'Copy as Markdown');
    copy.addEventListener('click', () => vscode.postMessage({ type: 'copy' }));
    bar.append(el('label', {}, 'Model ', select), field, copy);
    if (answer.summary) {
        bar.append(el('span', { class: 'source' }, `input ${answer.summary.input_text}`));
    }
    return bar;
}

const COLUMNS = ['Layer (type (var_name):depth-idx)', 'Input Shape', 'Output Shape', 'Param #', 'Trainable', 'Mult-Adds'];

function table(rows: Row[], device: string | null): HTMLElement {
    const head = el('tr', {}, ...COLUMNS.map((c) => el('th', {}, c)));
    const body = el('tbody');
    for (const row of rows) {
        const output = row.status === 'failed' ? `✗ ${row.diagnostic?.code ?? 'fails'}` :
            row.status === 'incomplete' || !row.called ? '--' : formatShape(row.output);
        const outputCell = el('td', { class: 'shape' }, output);
        if (row.probed.length && device) {
            outputCell.append(el('div', { class: 'probed' }, `probed on ${device}: ${row.probed.map(formatShape).join(' or ')}`));
        }
        const tr = el('tr', { 'data-path': row.path, 'data-status': row.status, class: `row ${row.status}` },
            el('td', { class: 'layer' }, row.label),
            el('td', { class: 'shape' }, row.called ? formatShape(row.input) : '--'),
            outputCell,
            el('td', { class: 'num' }, row.params_text),
            el('td', {}, row.trainable),
            el('td', { class: 'num' }, row.mult_adds_text));
        const target = row.target;
        if (target) {
            tr.classList.add('link');
            tr.title = 'Go to the definition';
            tr.addEventListener('click', () => vscode.postMessage({ type: 'reveal', target }));
        }
        body.append(tr);
        if (row.status === 'failed' && row.diagnostic) {
            body.append(el('tr', { class: 'message' }, el('td', { colspan: String(COLUMNS.length) },
                `✗ line ${row.diagnostic.range.start.line}: ${row.diagnostic.message}`)));
        }
    }
    return el('table', { id: 'summary-table' }, el('thead', {}, head), body);
}

// --- the diagram ---------------------------------------------------------------------------

const CHAR_WIDTH = 7;
const LINE_HEIGHT = 15;

function nodeLines(node: FlowNode, calls: { path: string; type: string }[]): string[] {
    let title = node.label;
    if (node.kind === 'layer' && node.call >= 0 && calls[node.call]) {
        title = `${node.label}: ${calls[node.call].type}`;
    } else if (node.kind === 'input') {
        title = `input ${node.label}`;
    }
    const lines = [title];
    if (node.diagnostic) {
        lines.push(`✗ ${node.diagnostic.code}`);
    } else {
        lines.push(formatShape(node.output));
    }
    for (const shape of node.probed) {
        lines.push(`probed ${formatShape(shape)}`);
    }
    return lines;
}

function diagram(pane: HTMLElement, flow: FlowNode[], calls: { path: string; type: string; parent: number }[]): number {
    const section = el('section', { id: 'diagram', 'aria-label': 'Forward pass' });
    pane.append(el('h2', {}, 'Forward pass'), section);
    if (!flow.length) {
        section.append(el('p', { class: 'status' }, 'No data flow was recorded.'));
        return 0;
    }
    if (flow.length > MAX_DIAGRAM_NODES) {
        section.append(el('p', { class: 'status' }, `${flow.length} steps: too many to draw.`));
        return 0;
    }
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
    g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 26, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    // The module calls that hold steps become nested boxes (the model itself is the frame).
    const used = new Set<number>();
    for (const node of flow) {
        for (let c = node.group; c > 0 && !used.has(c); c = calls[c]?.parent ?? -1) {
            used.add(c);
        }
    }
    for (const c of used) {
        g.setNode(`c${c}`, { label: `${calls[c].path}: ${calls[c].type}`, clusterLabelPos: 'top' });
    }
    for (const c of used) {
        const parent = calls[c].parent;
        if (used.has(parent)) {
            g.setParent(`c${c}`, `c${parent}`);
        }
    }
    flow.forEach((node, i) => {
        const lines = nodeLines(node, calls);
        const width = Math.max(...lines.map((l) => l.length)) * CHAR_WIDTH + 20;
        g.setNode(`n${i}`, { width, height: lines.length * LINE_HEIGHT + 12, lines });
        if (used.has(node.group)) {
            g.setParent(`n${i}`, `c${node.group}`);
        }
        for (const source of node.inputs) {
            g.setEdge(`n${source}`, `n${i}`);
        }
    });
    dagre.layout(g);
    const { width = 0, height = 0 } = g.graph();
    const root = svg('svg', { width: width + 16, height: height + 16, viewBox: `-8 -8 ${width + 16} ${height + 16}`, role: 'img' });
    root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))));
    for (const c of used) {
        const box = g.node(`c${c}`);
        root.append(svg('g', { class: 'cluster', 'data-call': c },
            svg('rect', { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 6 }),
            svg('text', { x: box.x - box.width / 2 + 6, y: box.y - box.height / 2 + 12 }, box.label ?? '')));
    }
    for (const edge of g.edges()) {
        const points = g.edge(edge).points ?? [];
        const target = flow[Number(edge.w.slice(1))];
        const source = Number(edge.v.slice(1));
        // A merge (a residual add, a cat) fed by an earlier step than its latest input: a skip.
        const skip = target.inputs.length > 1 && source !== Math.max(...target.inputs);
        const d = points.map((p: dagre.Point, k: number) => `${k ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
        root.append(svg('path', { d, class: skip ? 'edge skip' : 'edge', 'marker-end': 'url(#arrow)' }));
    }
    flow.forEach((node, i) => {
        const placed = g.node(`n${i}`) as dagre.NodeLabel & { lines: string[] };
        const box = { ...placed, x: placed.x ?? 0, y: placed.y ?? 0 };
        const merge = node.inputs.length > 1;
        const classes = ['node', node.kind, merge ? 'merge' : '', node.diagnostic ? 'error' : ''].filter(Boolean).join(' ');
        const group = svg('g', { class: classes, 'data-kind': node.kind, 'data-label': node.label, tabindex: 0 });
        group.append(svg('rect', { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: merge ? box.height / 2 : 4 }));
        box.lines.forEach((line: string, k: number) => {
            group.append(svg('text', { x: box.x, y: box.y - box.height / 2 + 6 + LINE_HEIGHT * (k + 0.8), class: k === 0 ? 'title' : k === 1 ? 'shape' : 'probed' }, line));
        });
        if (node.diagnostic) {
            group.append(svg('title', {}, `line ${node.diagnostic.range.start.line}: ${node.diagnostic.message}`));
        }
        const target = node.target;
        if (target) {
            group.classList.add('link');
            group.addEventListener('click', () => vscode.postMessage({ type: 'reveal', target }));
        }
        root.append(group);
    });
    section.append(root);
    const failing = flow.find((n) => n.diagnostic);
    if (failing?.diagnostic) {
        section.append(el('p', { class: 'node-error' }, `✗ ${failing.label}: ${failing.diagnostic.message}`));
    }
    return flow.length;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
    const message = event.data;
    if (message.type === 'loading') {
        app.replaceChildren(el('p', { class: 'status' }, `Loading the shape summary${message.model ? ` of ${message.model}` : ''}…`));
    } else if (message.type === 'error') {
        app.replaceChildren(el('p', { class: 'status error' }, message.message));
    } else if (message.type === 'summary') {
        const counts = render(message.answer, message.input);
        // After the browser has painted what was drawn.
        requestAnimationFrame(() => vscode.postMessage({ type: 'rendered', version: message.answer.version, ...counts }));
    }
});
vscode.postMessage({ type: 'ready', since: Math.round(performance.now()) });
