// ShapeLens in real VS Code: code-server (the VS Code workbench, served to a browser) driven by
// playwright-core in Debian's Chromium, as shared/REAL_EDITOR.md describes.
//
// One scenario, as a person would do it: install the freshly built .vsix, open a file whose
// Conv2d gets 12 channels but is built for 3, see the squiggle, the problem count and the shape in
// a hover; apply the quick fix from the lightbulb menu (Ctrl+.) and see the squiggle go; run
// "ShapeLens: Probe Tensor Shapes" from the command palette and see the probed shape in a hover.
//
//   node tests/vscode/e2e.mjs --vsix build/shapelens-0.1.0.vsix --python .venv/bin/python \
//        --out test-output/vscode [--code-server PATH] [--chromium PATH] [--keep]
//
// Writes OUT/result.json ({ok, steps: [{name, ok, detail, ms}], screenshots, ...}), OUT/*.png
// and the extension's log; exits 0 only when every step passed. Nothing is stubbed: the server is
// the one inside the .vsix, on the given interpreter.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv) {
    const args = {
        vsix: undefined,
        python: path.join(ROOT, '.venv', 'bin', 'python'),
        out: path.join(ROOT, 'test-output', 'vscode'),
        codeServer: path.join(ROOT, '.tools', 'code-server-4.100.3', 'node_modules', '.bin', 'code-server'),
        chromium: '/usr/lib/chromium/chromium',
        keep: false,
        scenario: 'all',
    };
    for (let i = 2; i < argv.length; i++) {
        const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
        if (key === 'keep') {
            args.keep = true;
        } else if (key === 'scenario') {
            args.scenario = argv[++i];
        } else if (key in args) {
            args[key] = path.resolve(argv[++i]);
        } else {
            throw new Error(`unknown argument ${argv[i]}`);
        }
    }
    if (!args.vsix) {
        const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
        args.vsix = path.join(ROOT, 'build', `shapelens-${version}.vsix`);
    }
    return args;
}

// The file under test, its sample input under a main guard as most scripts write it (the
// analysis and the probe both use it). Line numbers below are 1-based, as in the editor.
const MODEL_PY = `import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        h = self.conv1(x)
        return self.relu(h)


if __name__ == "__main__":
    x = torch.randn(1, 12, 28, 28)
    model = Net()
    out = model(x)
`;
// The shape summary's file: a skip connection through torch.cat and a residual add.
const UNET_PY = `import torch
import torch.nn as nn


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.mid = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 16, 2, stride=2)
        self.fuse = nn.Conv2d(32, 8, 3, padding=1)
        self.refine = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        skip = torch.relu(self.down(x))
        h = torch.relu(self.mid(self.pool(skip)))
        h = torch.cat([self.up(h), skip], dim=1)
        h = self.fuse(h)
        h = h + torch.relu(self.refine(h))
        return self.head(h)


net = TinyUNet()
y = net(torch.randn(1, 3, 32, 32))
`;
const LINE_OF = (prefix) => MODEL_PY.split('\n').findIndex((l) => l.startsWith(prefix)) + 1;
const CONV_LINE = MODEL_PY.split('\n').findIndex((l) => l.includes('self.conv1 = ')) + 1;
const X_LINE = LINE_OF('    x = torch.randn');
const OUT_LINE = LINE_OF('    out = model(x)');
const MAIN_COLUMN = 5; // the names under the main guard are indented by four spaces

const args = parseArgs(process.argv);
fs.mkdirSync(args.out, { recursive: true });
for (const f of fs.readdirSync(args.out)) {
    if (/\.(png|json|log)$/.test(f)) fs.rmSync(path.join(args.out, f));
}

const result = { ok: false, steps: [], screenshots: [], vsix: args.vsix, python: args.python, startedAt: new Date().toISOString() };
const started = Date.now();
function writeResult() {
    result.ok = result.steps.length > 0 && result.steps.every((s) => s.ok);
    result.seconds = (Date.now() - started) / 1000;
    fs.writeFileSync(path.join(args.out, 'result.json'), JSON.stringify(result, null, 2));
}

/** Runs one named step; records ok/detail; a failed step does not stop later ones unless `fatal`. */
async function step(name, fn, { fatal = false } = {}) {
    const t0 = Date.now();
    try {
        const detail = await fn();
        result.steps.push({ name, ok: true, detail: detail ?? '', ms: Date.now() - t0 });
        console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
        return true;
    } catch (error) {
        const detail = error instanceof Error ? error.message.split('\n').slice(0, 6).join('\n') : String(error);
        result.steps.push({ name, ok: false, detail, ms: Date.now() - t0 });
        console.log(`FAIL  ${name}: ${detail}`);
        if (fatal) throw new Fatal(name);
        return false;
    }
}
class Fatal extends Error {}

function check(condition, message) {
    if (!condition) throw new Error(message);
}

function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

async function waitForHealthz(port, child, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
        try {
            const res = await fetch(`http://127.0.0.1:${port}/healthz`);
            if (res.ok) return;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`code-server did not answer /healthz within ${timeoutMs / 1000} s`);
}

// --- the run -----------------------------------------------------------------------------------
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shapelens-e2e-'));
const userDir = path.join(tmp, 'user');
const extDir = path.join(tmp, 'extensions');
const workspace = path.join(tmp, 'workspace');
// A Python with nothing installed (a venv without pip of the .venv's base interpreter): first on
// the PATH code-server gets, so it is the `python3` the extension runs the server with.
const noPygls = path.join(tmp, 'python-no-pygls');
const codeServers = [];
let browser;
let page;
const serverLog = [];

/** The user settings of a run. No shapelens.python: the server runs on `python3` from PATH, a
 * Python without pygls (see noPygls), and the probe on the interpreter the workspace's
 * pyproject.toml names ([tool.shapelens] python), the repository's .venv, which has torch. */
function userSettings(extra = {}) {
    return {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'editor.hover.delay': 100,
        'editor.minimap.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'files.autoSave': 'off',
        'shapelens.probe.device': 'cpu',
        ...extra,
    };
}

function writeUserSettings(dir, settings) {
    fs.mkdirSync(path.join(dir, 'User'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

/** Starts code-server on a free port and waits until it answers; returns the port. */
async function startCodeServer(dataDir, folder, { trust = false } = {}) {
    const port = await freePort();
    const env = { ...process.env, PATH: [path.join(noPygls, 'bin'), process.env.PATH].join(path.delimiter) };
    const child = spawn(args.codeServer, [
        '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
        ...(trust ? [] : ['--disable-workspace-trust']),
        '--user-data-dir', dataDir, '--extensions-dir', extDir, folder,
    ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    codeServers.push(child);
    child.stdout.on('data', (d) => serverLog.push(String(d)));
    child.stderr.on('data', (d) => serverLog.push(String(d)));
    await waitForHealthz(port, child, 60_000);
    return port;
}

/** Opens the workbench on `folder` in a new page, then model.py with Ctrl+P. */
async function openModel(port, folder) {
    if (!browser) {
        browser = await chromium.launch({
            executablePath: args.chromium,
            headless: true,
            args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--no-first-run'],
        });
    }
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.explorer-folders-view, .monaco-workbench .part.sidebar').first().waitFor({ timeout: 30_000 });
    await openFile('model.py', 'torch.randn(1, 12, 28, 28)');
}

/** Opens a workspace file with Ctrl+P and waits until a line showing `text` is drawn. */
async function openFile(name, text) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(name);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-line', { hasText: text }).first().waitFor({ timeout: 15_000 });
}

/** Waits for a notification toast whose text matches `pattern`; returns its text. */
async function toast(pattern, timeoutMs) {
    const item = page.locator('.notifications-toasts .notification-toast', { hasText: pattern }).first();
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
    return { item, text: (await item.innerText()).replace(/\s+/g, ' ').trim() };
}

async function shot(name) {
    if (!page) return;
    const file = path.join(args.out, `${String(result.screenshots.length + 1).padStart(2, '0')}-${name}.png`);
    // A busy machine can make one capture time out (fonts, a repaint): try again before giving
    // up, and say why in result.json when every try failed.
    let error = null;
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            await page.screenshot({ path: file, timeout: 20_000 });
            if (fs.statSync(file).size > 10_000) { error = null; break; }
            error = `only ${fs.statSync(file).size} bytes`;
        } catch (e) {
            error = String(e).split('\n')[0];
        }
        await page.waitForTimeout(1_000).catch(() => {});
    }
    if (error) result.screenshotErrors = { ...(result.screenshotErrors ?? {}), [name]: error };
    result.screenshots.push(path.relative(ROOT, file));
}

/** Moves the cursor with "Go to Line/Column" (Ctrl+G). */
async function goTo(line, column) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+G');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`:${line}:${column}`);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Shows the hover at (line, column) with "Show or Focus Hover" (Ctrl+K Ctrl+I) and returns
 * its text once `expect` matches it (or the last text seen when it never does). */
async function hoverText(line, column, expect, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
        await goTo(line, column);
        await page.keyboard.press('Control+K');
        await page.keyboard.press('Control+I');
        const hover = page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
        try {
            await hover.waitFor({ state: 'visible', timeout: 3_000 });
            await page.waitForTimeout(300); // let every hover provider answer
            last = (await page.locator('.monaco-editor .monaco-hover:not(.hidden)').allInnerTexts()).join('\n');
            if (expect.test(last)) return last;
        } catch {
            // no hover yet: the server may still be analysing
        }
        await page.waitForTimeout(500);
    }
    throw new Error(`hover at ${line}:${column} never matched ${expect}; last hover text: ${JSON.stringify(last)}`);
}

async function problemCounts() {
    const item = page.locator('.statusbar [id="status.problems"]').first();
    const label = (await item.getAttribute('aria-label')) ?? (await item.innerText());
    // VS Code 1.100's label: "No Problems", "Errors: 1", "Warnings: 2", "Errors: 1, Warnings: 2"
    const count = (kind) => Number(new RegExp(`${kind}: (\\d+)`).exec(label)?.[1] ?? 0);
    check(/No Problems|Errors:|Warnings:|Infos:/.test(label), `unexpected problems label ${JSON.stringify(label)}`);
    return { label, errors: count('Errors'), warnings: count('Warnings') };
}

async function runCommand(title) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.click();
}

async function main() {
    await step('infrastructure present', async () => {
        for (const [what, file] of [['.vsix (run scripts/build-vsix.sh)', args.vsix], ['code-server (run scripts/setup-editors.sh)', args.codeServer],
            ['Chromium (run scripts/setup-editors.sh)', args.chromium], ['Python with torch (run scripts/setup-python.sh)', args.python]]) {
            check(fs.existsSync(file), `${what}: ${file} does not exist`);
        }
        return `code-server ${spawnSync(args.codeServer, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`;
    }, { fatal: true });

    await step('a Python without pygls is first on PATH', async () => {
        const base = spawnSync(args.python, ['-c', 'import sys; print(sys._base_executable)'], { encoding: 'utf8' }).stdout.trim();
        const made = spawnSync(base, ['-m', 'venv', '--without-pip', noPygls], { encoding: 'utf8' });
        check(made.status === 0, `python -m venv failed: ${made.stderr}`);
        const python = path.join(noPygls, 'bin', 'python3');
        const probe = spawnSync(python, ['-c', 'import pygls'], { encoding: 'utf8' });
        check(probe.status !== 0, `${python} can import pygls`);
        return `${python}: ${probe.stderr.trim().split('\n').pop()}`;
    }, { fatal: true });

    fs.mkdirSync(extDir, { recursive: true });
    fs.mkdirSync(workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'model.py'), MODEL_PY);
    // The probe's interpreter comes from the project's configuration (the user set none).
    fs.writeFileSync(path.join(workspace, 'pyproject.toml'), `[tool.shapelens]\npython = '${args.python}'\n`);
    fs.writeFileSync(path.join(workspace, 'unet.py'), UNET_PY);
    writeUserSettings(userDir, userSettings());

    await step('install the .vsix', async () => {
        const run = spawnSync(args.codeServer, ['--user-data-dir', userDir, '--extensions-dir', extDir, '--install-extension', args.vsix],
            { encoding: 'utf8', timeout: 120_000 });
        check(run.status === 0, `code-server --install-extension exited ${run.status}: ${run.stderr || run.stdout}`);
        const installed = fs.readdirSync(extDir).filter((d) => d.startsWith('shapelens.shapelens-'));
        check(installed.length === 1, `no shapelens.shapelens-* folder in ${extDir}: ${fs.readdirSync(extDir)}`);
        check(fs.existsSync(path.join(extDir, installed[0], 'bundled', 'libs', 'shapelens')), 'the installed extension has no bundled/libs/shapelens');
        return installed[0];
    }, { fatal: true });

    let port;
    await step('start code-server', async () => {
        port = await startCodeServer(userDir, workspace);
        return `port ${port}`;
    }, { fatal: true });

    await step('open the workbench and model.py', () => openModel(port, workspace), { fatal: true });

    await step('status bar shows the ShapeLens server running', async () => {
        const item = page.locator('.statusbar-item', { hasText: 'ShapeLens' }).first();
        await item.waitFor({ state: 'visible', timeout: 30_000 });
        // running = the symbol-array icon (starting spins, failure shows an error icon)
        await page.locator('.statusbar-item .codicon-symbol-array').first().waitFor({ timeout: 45_000 });
        return (await item.getAttribute('aria-label')) ?? (await item.innerText());
    });

    await step('the server runs on that Python, from the bundled libraries', async () => {
        const log = fs.readdirSync(userDir, { recursive: true }).find((f) => String(f).endsWith('ShapeLens.log'));
        const logged = log ? fs.readFileSync(path.join(userDir, String(log)), 'utf8') : '';
        check(/Python: python3 \(from PATH\)/.test(logged), 'the client log does not show python3 from PATH');
        check(/Server running/.test(logged), 'the client log does not show the server running');
        return logged.split('\n').filter((l) => /Python: |Server running/.test(l)).map((l) => l.replace(/^\S+ \S+ /, '')).join(' | ');
    });

    await step('squiggle on the Conv2d call', async () => {
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'attached', timeout: 45_000 });
        const count = await page.locator('.monaco-editor .squiggly-error').count();
        return `${count} error squiggle(s)`;
    });
    await shot('squiggle');

    await step('problems count in the status bar is 1 error', async () => {
        let counts;
        for (let i = 0; i < 20; i++) {
            counts = await problemCounts();
            if (counts.errors === 1) break;
            await page.waitForTimeout(250);
        }
        check(counts.errors === 1, `status bar problems: ${JSON.stringify(counts)}`);
        return counts.label;
    });

    await step('hover on x shows its shape [1, 12, 28, 28]', async () => {
        const text = await hoverText(X_LINE, MAIN_COLUMN, /\[1, 12, 28, 28\]/);
        return text.replace(/\s+/g, ' ').slice(0, 200);
    });
    await shot('hover-shape');

    await step('hover on the squiggle explains the channel mismatch', async () => {
        const column = MODEL_PY.split('\n')[LINE_OF('        h = self.conv1(x)') - 1].indexOf('self.conv1') + 1;
        const text = await hoverText(LINE_OF('        h = self.conv1(x)'), column + 2, /expected input\[1, 12, 28, 28\] to have 3 channels/);
        return text.replace(/\s+/g, ' ').slice(0, 200);
    });

    await step('quick fix from the lightbulb menu removes the squiggle', async () => {
        const fixLine = LINE_OF('        h = self.conv1(x)');
        const column = MODEL_PY.split('\n')[fixLine - 1].indexOf('self.conv1') + 3;
        await goTo(fixLine, column);
        await page.keyboard.press('Control+.');
        const row = page.locator('.action-widget .monaco-list-row', { hasText: /in_channels.*12/ }).first();
        await row.waitFor({ state: 'visible', timeout: 15_000 });
        const title = (await row.innerText()).trim();
        await shot('quick-fix-menu');
        // Choose it as a person at the keyboard does: arrows to the entry, then Enter (a mouse
        // click waits forever for the menu's row to be "stable").
        for (let i = 0; i < 6; i++) {
            const focused = await page.locator('.action-widget .monaco-list-row.focused').first().getAttribute('aria-label').catch(() => null);
            if (focused && /in_channels.*12/.test(focused)) break;
            await page.keyboard.press('ArrowDown');
        }
        await page.keyboard.press('Enter');
        await page.locator('.monaco-editor .view-line', { hasText: 'nn.Conv2d(12, 64' }).waitFor({ timeout: 10_000 });
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'detached', timeout: 30_000 });
        const counts = await problemCounts();
        check(counts.errors === 0, `after the fix the status bar still counts errors: ${counts.label}`);
        await page.keyboard.press('Control+S');
        return `applied "${title}"; line ${CONV_LINE} now reads nn.Conv2d(12, 64, …); ${counts.label}`;
    });
    await shot('after-quick-fix');

    await step('probe from the command palette shows the probed shape in a hover', async () => {
        await runCommand('ShapeLens: Probe Tensor Shapes');
        // The status bar says "probing…" while the request is outstanding (seen unless the probe
        // is over before the first look).
        const probing = await page.locator('.statusbar-item', { hasText: 'probing' }).first()
            .waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false);
        const { item, text: message } = await toast('ShapeLens probe', 150_000);
        check(await item.locator('.codicon-info, .codicon-notifications-info').count() > 0, `the probe did not succeed: ${message}`);
        await shot('probe-finished');
        const text = await hoverText(OUT_LINE, MAIN_COLUMN, /probe[^\n]*cpu[\s\S]*\[1, 64, 28, 28\]|\[1, 64, 28, 28\][\s\S]*probe[^\n]*cpu/i, 20_000);
        return `${message} | status bar ${probing ? 'showed' : 'did not show'} "probing…" | hover: ${text.replace(/\s+/g, ' ').slice(0, 200)}`;
    });
    await shot('probe-hover');

    await step('the "▶ probe" code lens probes the class', async () => {
        await page.keyboard.press('Escape');
        // clear the earlier toasts so the new one is the only match
        await runCommand('Notifications: Clear All Notifications');
        const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'probe' }).first();
        await lens.waitFor({ state: 'visible', timeout: 15_000 });
        await lens.click();
        const { item, text } = await toast('ShapeLens probe', 150_000);
        check(await item.locator('.codicon-info, .codicon-notifications-info').count() > 0, `the probe did not succeed: ${text}`);
        const log = fs.readdirSync(userDir, { recursive: true }).find((f) => String(f).endsWith('ShapeLens.log'));
        const logged = log ? fs.readFileSync(path.join(userDir, String(log)), 'utf8') : '';
        check(/Probe Net in model\.py/.test(logged), 'the client log does not show a probe of class Net (the lens passes [uri, className])');
        return text;
    });

    await summarySteps();

    await step('an interpreter that cannot run the server says why', async () => {
        // As if the .vsix had been packaged without the server libraries: python3 (no pygls,
        // no shapelens) must then say what is missing, with which interpreter, and what to do.
        await page.keyboard.press('Escape');
        await runCommand('Notifications: Clear All Notifications');
        const installed = fs.readdirSync(extDir).find((d) => d.startsWith('shapelens.shapelens-'));
        const libs = path.join(extDir, installed, 'bundled', 'libs');
        fs.renameSync(libs, `${libs}.away`);
        try {
            await runCommand('ShapeLens: Restart Server');
            const { text } = await toast('cannot start its language server', 30_000);
            check(text.includes('"python3" (Python 3.'), `no interpreter in: ${text}`);
            check(text.includes("cannot import the module 'shapelens'"), `no missing module in: ${text}`);
            check(text.includes('npm run package') && text.includes('shapelens.python'), `no way forward in: ${text}`);
            await page.locator('.statusbar-item .codicon-error').first().waitFor({ timeout: 10_000 });
            const label = await page.locator('.statusbar-item', { hasText: 'ShapeLens' }).first().getAttribute('aria-label');
            check(/failed/.test(label ?? ''), `status bar item: ${label}`);
            await page.waitForTimeout(800);
            await shot('server-cannot-start');
            return `${text} | status bar: ${label}`;
        } finally {
            fs.renameSync(`${libs}.away`, libs);
        }
    });

    await step('a missing Python interpreter gives a clear error', async () => {
        await page.keyboard.press('Escape');
        // Set shapelens.python in the Settings editor, as a person would; the change restarts the
        // server with the new interpreter.
        await runCommand('Preferences: Open User Settings');
        const search = page.locator('.settings-editor .settings-header .monaco-editor textarea, .settings-editor .suggest-input-container textarea').first();
        await search.waitFor({ timeout: 15_000 });
        await search.focus();
        await page.keyboard.type('shapelens.python');
        const input = page.locator('.settings-editor .setting-item-contents', { hasText: 'Python extension' }).locator('input').first();
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        await input.fill(path.join(tmp, 'no-such-dir', 'python3'));
        await page.keyboard.press('Tab');
        const { text } = await toast('no Python interpreter was found', 30_000);
        await page.locator('.statusbar-item .codicon-error', { hasText: '' }).first().waitFor({ timeout: 10_000 });
        const label = await page.locator('.statusbar-item', { hasText: 'ShapeLens' }).first().getAttribute('aria-label');
        check(/no-python/.test(label ?? ''), `status bar item: ${label}`);
        return `${text} | status bar: ${label}`;
    });
    await shot('missing-python');

    // Restricted Mode: a second code-server with workspace trust on and a folder never trusted.
    const restrictedUser = path.join(tmp, 'user-restricted');
    const restrictedWorkspace = path.join(tmp, 'untrusted-workspace');
    fs.mkdirSync(restrictedWorkspace, { recursive: true });
    fs.writeFileSync(path.join(restrictedWorkspace, 'model.py'), MODEL_PY);
    writeUserSettings(restrictedUser, userSettings({ 'security.workspace.trust.startupPrompt': 'never' }));
    await step('Restricted Mode: static analysis works', async () => {
        const restrictedPort = await startCodeServer(restrictedUser, restrictedWorkspace, { trust: true });
        await openModel(restrictedPort, restrictedWorkspace);
        await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'attached', timeout: 45_000 });
        const text = await hoverText(X_LINE, MAIN_COLUMN, /\[1, 12, 28, 28\]/);
        return `squiggle shown; hover: ${text.replace(/\s+/g, ' ').slice(0, 80)}`;
    });
    await step('Restricted Mode: the probe is disabled with an explanation', async () => {
        await runCommand('ShapeLens: Probe Tensor Shapes');
        const { text } = await toast('Restricted Mode', 15_000);
        check(/probe/.test(text), text);
        await page.waitForTimeout(800); // let the toast finish sliding in before the screenshot
        return text;
    });
    await shot('restricted-mode-probe');
}

// --- the shape summary (a view in the Panel area) -------------------------------------------------

/** The summary's page: code-server puts each webview in an iframe holding the page's iframe. */
function summaryFrame() {
    return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

/** A tab of the Panel area (Problems, Output, Shape Summary …) by its title. */
function panelTab(title) {
    return page.locator('.part.panel .composite-bar .action-item', { hasText: title }).first();
}

/** The Shape Summary view is the Panel area's tab in view, and its page is shown. */
async function summaryInView() {
    await page.locator('.part.panel').waitFor({ state: 'visible', timeout: 10_000 });
    const tab = panelTab('Shape Summary');
    await tab.waitFor({ state: 'visible', timeout: 10_000 });
    check(/\bchecked\b/.test((await tab.getAttribute('class')) ?? ''), `the Shape Summary tab is not the one chosen: ${await tab.getAttribute('class')}`);
    await page.locator('iframe.webview.ready').last().waitFor({ state: 'visible', timeout: 10_000 });
}

/** Picks a colour theme in "Preferences: Color Theme", as a person would. */
async function pickTheme(name) {
    await runCommand('Preferences: Color Theme');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(name);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The summary's timings (command -> drawn) the extension logged, in ms. */
function loggedSummaryTimes() {
    const times = [];
    const walk = (dir) => {
        for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.name === 'ShapeLens.log') {
                for (const m of fs.readFileSync(full, 'utf8').matchAll(/Shape summary of (\S+) shown (\d+) ms after the command/g)) {
                    times.push({ model: m[1], ms: Number(m[2]) });
                }
            }
        }
    };
    walk(path.join(userDir, 'logs'));
    return times;
}

async function summarySteps() {
    const UNET_LINE = (needle) => UNET_PY.split('\n').findIndex((l) => l.includes(needle)) + 1;
    await step('the "▦ summary" code lens opens the Shape Summary view', async () => {
        await pickTheme('Light Modern');
        await runCommand('View: Close Primary Side Bar'); // the width of the window for the table
        await openFile('unet.py', 'class TinyUNet');
        const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'summary' }).first();
        await lens.waitFor({ state: 'visible', timeout: 30_000 });
        await lens.click();
        const frame = summaryFrame();
        await frame.locator('#summary-table tbody tr.row').first().waitFor({ timeout: 30_000 });
        const rows = await frame.locator('#summary-table tbody tr.row td.layer').allInnerTexts();
        const expected = ['TinyUNet (TinyUNet)', '├─Conv2d (down): 1-1', '├─MaxPool2d (pool): 1-2', '├─Conv2d (mid): 1-3',
            '├─ConvTranspose2d (up): 1-4', '├─Conv2d (fuse): 1-5', '├─Conv2d (refine): 1-6', '├─Conv2d (head): 1-7'];
        check(JSON.stringify(rows) === JSON.stringify(expected), `table rows: ${JSON.stringify(rows)}`);
        const fuse = (await frame.locator('#summary-table tr[data-path="fuse"]').innerText()).replace(/\s+/g, ' ');
        check(/\[1, 32, 32, 32\] \[1, 8, 32, 32\] 2,312 True 2,367,488/.test(fuse), `the fuse row: ${fuse}`);
        const labels = await frame.locator('#diagram g.node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-label')));
        for (const label of ['x', 'down', 'cat', 'fuse', '+', 'head', 'output']) {
            check(labels.includes(label), `no diagram node ${label}: ${JSON.stringify(labels)}`);
        }
        const cat = ((await frame.locator('#diagram g.node.merge[data-label="cat"]').textContent()) ?? '').replace(/\s+/g, ' ');
        check(/\[1, 32, 32, 32\]/.test(cat), `the cat node: ${cat}`);
        const skips = await frame.locator('#diagram path.edge.skip').count();
        check(skips >= 2, `${skips} skip edges (the cat's and the residual add's)`);
        const times = loggedSummaryTimes();
        await frame.locator('#diagram g.node.merge[data-label="+"]').scrollIntoViewIfNeeded();
        await summaryInView();
        return `${rows.length} rows, ${labels.length} diagram nodes, ${skips} skip edges; drawn ${times.at(-1)?.ms ?? '?'} ms after the command`;
    });
    await page.waitForTimeout(500);
    await shot('summary-light');

    await step('a row of the table reveals the line that defines the layer', async () => {
        await summaryFrame().locator('#summary-table tr[data-path="refine"]').click();
        const line = UNET_LINE('self.refine = ');
        await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line},`) }).first().waitFor({ timeout: 10_000 });
        return `cursor on line ${line}`;
    });

    await step('an edit that breaks a layer turns its diagram node to the error state', async () => {
        const line = UNET_LINE('self.fuse = ');
        const column = UNET_PY.split('\n')[line - 1].indexOf('(32') + 2;
        await goTo(line, column);
        await page.keyboard.press('Shift+ArrowRight');
        await page.keyboard.press('Shift+ArrowRight');
        await page.keyboard.type('24');
        await page.locator('.monaco-editor .view-line', { hasText: 'nn.Conv2d(24, 8' }).waitFor({ timeout: 10_000 });
        const frame = summaryFrame();
        const node = frame.locator('#diagram g.node.error').first();
        await node.waitFor({ timeout: 30_000 });
        const label = await node.getAttribute('data-label');
        check(label === 'fuse', `the error node is ${label}`);
        const text = ((await node.textContent()) ?? '').replace(/\s+/g, ' ');
        check(/conv-in-channels/.test(text), `error node text: ${text}`);
        const failed = (await frame.locator('#summary-table tr.row.failed').innerText()).replace(/\s+/g, ' ');
        check(/fuse/.test(failed), `failed row: ${failed}`);
        const message = await frame.locator('#summary-table tr.message').innerText();
        check(/expected input\[1, 32, 32, 32\] to have 24 channels/.test(message), `message row: ${message}`);
        const after = await frame.locator('#summary-table tr.row').count();
        await node.scrollIntoViewIfNeeded();
        return `node "${label}" in the error state (${text}); ${after} rows up to it`;
    });
    await page.waitForTimeout(500);
    await shot('summary-error');

    await step('the summary follows a switch to a dark theme', async () => {
        await pickTheme('Dark Modern');
        const body = summaryFrame().locator('body');
        await page.waitForTimeout(500);
        let classes = '';
        for (let i = 0; i < 20 && !/vscode-dark/.test(classes); i++) {
            classes = (await body.getAttribute('class')) ?? '';
            await page.waitForTimeout(250);
        }
        check(/vscode-dark/.test(classes), `webview body class: ${classes}`);
        const fill = await summaryFrame().locator('#diagram g.node.error rect').first().evaluate((r) => getComputedStyle(r).stroke);
        return `body class "${classes.trim()}", error node stroke ${fill}`;
    });
    await page.waitForTimeout(500);
    await shot('summary-dark');

    await step('undoing the edit clears the error state', async () => {
        await openFile('unet.py', 'class TinyUNet');
        await page.keyboard.press('Control+Z');
        await page.locator('.monaco-editor .view-line', { hasText: 'nn.Conv2d(32, 8' }).waitFor({ timeout: 10_000 });
        await summaryFrame().locator('#diagram g.node.error').first().waitFor({ state: 'detached', timeout: 30_000 });
        await page.keyboard.press('Control+S');
        return 'no error node';
    });
    await step('Copy as Markdown puts the table on the clipboard', async () => {
        await runCommand('Notifications: Clear All Notifications');
        await summaryFrame().locator('#copy-markdown').click();
        const { text } = await toast('on the clipboard', 10_000);
        return text;
    });

    await step('hidden with the Panel area, the command shows the summary again, of the class at the cursor', async () => {
        await runCommand('View: Hide Panel');
        await page.locator('.part.panel').waitFor({ state: 'hidden', timeout: 10_000 });
        await page.locator('iframe.webview.ready').last().waitFor({ state: 'hidden', timeout: 10_000 });
        // model.py was probed above: its summary carries what the probe saw.
        await page.locator('.tabs-container .tab', { hasText: 'model.py' }).first().click();
        await page.locator('.monaco-editor .view-line', { hasText: 'class Net' }).first().waitFor({ timeout: 15_000 });
        await goTo(LINE_OF('class Net') + 1, 5);
        await runCommand('ShapeLens: Show Shape Summary');
        const frame = summaryFrame();
        const row = frame.locator('#summary-table tr[data-path="conv1"]');
        await row.locator('.probed').waitFor({ timeout: 30_000 });
        const cells = (await row.innerText()).replace(/\s+/g, ' ');
        check(/\[1, 12, 28, 28\] \[1, 64, 28, 28\] probed on cpu: \[1, 64, 28, 28\]/.test(cells), `the conv1 row: ${cells}`);
        const node = ((await frame.locator('#diagram g.node[data-label="conv1"]').textContent()) ?? '').replace(/\s+/g, ' ');
        check(/probed \[1, 64, 28, 28\]/.test(node), `the conv1 node: ${node}`);
        const model = await frame.locator('#model').inputValue();
        check(model === 'Net', `the model selected: ${model}`);
        await summaryInView();
        return `Net; conv1 row: ${cells.trim()}; node: ${node.trim()}`;
    });
    await page.mouse.move(300, 700); // no tooltip of the tab bar over the panel in the pictures
    await page.waitForTimeout(500);
    await shot('summary-probed');

    await step('behind another tab of the Panel area, the code lens shows the summary again', async () => {
        await panelTab('Problems').click();
        await page.locator('.part.panel .markers-panel').first().waitFor({ state: 'visible', timeout: 10_000 });
        await page.locator('iframe.webview.ready').last().waitFor({ state: 'hidden', timeout: 10_000 });
        await page.locator('.tabs-container .tab', { hasText: 'unet.py' }).first().click();
        const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'summary' }).first();
        await lens.waitFor({ state: 'visible', timeout: 30_000 });
        await lens.click();
        const frame = summaryFrame();
        await frame.locator('#summary-table tr[data-path="fuse"]').waitFor({ timeout: 30_000 });
        const first = await frame.locator('#summary-table tbody tr.row td.layer').first().innerText();
        check(first === 'TinyUNet (TinyUNet)', `the first row: ${first}`);
        await summaryInView();
        return `${first}, drawn ${loggedSummaryTimes().at(-1)?.ms ?? '?'} ms after the command`;
    });

    await step('an edit made while the summary is hidden is in it when its tab is chosen again', async () => {
        await panelTab('Problems').click();
        await page.locator('iframe.webview.ready').last().waitFor({ state: 'hidden', timeout: 10_000 });
        const line = UNET_LINE('self.fuse = ');
        await goTo(line, UNET_PY.split('\n')[line - 1].indexOf('(32') + 2);
        await page.keyboard.press('Shift+ArrowRight');
        await page.keyboard.press('Shift+ArrowRight');
        await page.keyboard.type('24');
        await page.locator('.monaco-editor .view-line', { hasText: 'nn.Conv2d(24, 8' }).waitFor({ timeout: 10_000 });
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'attached', timeout: 30_000 }); // analysed
        await panelTab('Shape Summary').click();
        await summaryInView();
        const node = summaryFrame().locator('#diagram g.node.error').first();
        await node.waitFor({ timeout: 30_000 });
        const label = await node.getAttribute('data-label');
        await page.keyboard.press('Escape');
        await page.locator('.tabs-container .tab', { hasText: 'unet.py' }).first().click();
        await page.keyboard.press('Control+Z');
        await page.locator('.monaco-editor .view-line', { hasText: 'nn.Conv2d(32, 8' }).waitFor({ timeout: 10_000 });
        await summaryFrame().locator('#diagram g.node.error').first().waitFor({ state: 'detached', timeout: 30_000 });
        await page.keyboard.press('Control+S');
        return `node "${label}" in the error state; after the undo, none`;
    });

    await step('the summary in a high-contrast theme', async () => {
        await pickTheme('Dark High Contrast');
        const frame = summaryFrame();
        let classes = '';
        for (let i = 0; i < 20 && !/vscode-high-contrast/.test(classes); i++) {
            classes = (await frame.locator('body').getAttribute('class')) ?? '';
            await page.waitForTimeout(250);
        }
        check(/vscode-high-contrast/.test(classes), `webview body class: ${classes}`);
        // Node borders take the theme's contrast border colour.
        const seen = await frame.locator('#diagram g.node.layer rect').first().evaluate((r) => {
            const probe = document.createElement('div');
            probe.style.color = 'var(--vscode-contrastBorder)';
            document.body.append(probe);
            const want = getComputedStyle(probe).color;
            probe.remove();
            return { stroke: getComputedStyle(r).stroke, want };
        });
        check(seen.want !== '' && seen.stroke === seen.want, `node stroke ${seen.stroke}, contrast border ${seen.want}`);
        return `body class "${classes.trim()}", node stroke ${seen.stroke} (the contrast border)`;
    });
    await page.mouse.move(300, 700);
    await page.waitForTimeout(500);
    await shot('summary-high-contrast');
    await pickTheme('Dark Modern');
}

/** `--scenario summary-bench`: the time from "ShapeLens: Show Shape Summary" to the drawn
 * summary on the 2,000-line benchmark file (bench/bench_summary_panel.py): the first time in the
 * window, again after the user hid the Panel area, again after another tab of the Panel area
 * (Problems) was chosen, on another class while the summary is in view, and again after the
 * user closed the view itself. Each run asks for another class, so the driver sees when the new
 * one is drawn. */
async function summaryBench() {
    const big = spawnSync(args.python, [path.join(ROOT, 'bench', 'large_file.py')], { encoding: 'utf8' });
    check(big.status === 0, `bench/large_file.py: ${big.stderr}`);
    fs.mkdirSync(extDir, { recursive: true });
    fs.mkdirSync(workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'model.py'), MODEL_PY);
    fs.writeFileSync(path.join(workspace, 'big.py'), big.stdout);
    writeUserSettings(userDir, userSettings());
    const install = spawnSync(args.codeServer, ['--user-data-dir', userDir, '--extensions-dir', extDir, '--install-extension', args.vsix],
        { encoding: 'utf8', timeout: 120_000 });
    check(install.status === 0, install.stderr);
    const port = await startCodeServer(userDir, workspace);
    await openModel(port, workspace);
    const lines = big.stdout.split('\n');
    const classLines = lines.flatMap((l, k) => (l.startsWith('class ') ? [k + 1] : []));
    const className = (k) => lines[classLines[k] - 1].slice(6).split('(')[0];
    await step('open the 2,000-line file', async () => {
        await openFile('big.py', lines[0].slice(0, 20) || 'import');
        await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'summary' }).first().waitFor({ timeout: 60_000 });
        return `${lines.length} lines, ${classLines.length} classes`;
    }, { fatal: true });
    const runs = 5;
    const logged = { first: [], hiddenPanel: [], otherTab: [], open: [], closedView: [] };
    const driver = { first: [], hiddenPanel: [], otherTab: [], open: [], closedView: [] };
    let next = 0; // the class of the next run
    /** The command on the next class (cursor in it): the time until its table is drawn, as the
     * extension logs it and as the driver sees it. */
    const summaryOfNextClass = async (kind) => {
        const k = next++;
        const name = className(k);
        const before = loggedSummaryTimes().length;
        await page.locator('.tabs-container .tab', { hasText: 'big.py' }).first().click();
        await goTo(classLines[k] + 2, 5);
        await runCommand('ShapeLens: Show Shape Summary');
        const t0 = Date.now();
        await summaryFrame().locator('#summary-table tbody tr.row td.layer', { hasText: `${name} (${name})` }).first().waitFor({ timeout: 30_000 });
        driver[kind].push(Date.now() - t0);
        let times = loggedSummaryTimes();
        for (let i = 0; i < 40 && times.length <= before; i++) {
            await page.waitForTimeout(100);
            times = loggedSummaryTimes();
        }
        const mine = times.slice(before).find((t) => t.model === name);
        check(mine, `the extension logged no time for ${name}`);
        logged[kind].push(mine.ms);
        await page.waitForTimeout(500);
        return `${name}: drawn ${mine.ms} ms after the command (the driver saw it after ${driver[kind].at(-1)} ms)`;
    };
    await step('first summary of the window', () => summaryOfNextClass('first'));
    for (let i = 1; i <= runs; i++) {
        await step(`again after hiding the Panel area ${i}`, async () => {
            await runCommand('View: Hide Panel');
            await page.locator('.part.panel').waitFor({ state: 'hidden', timeout: 10_000 });
            return summaryOfNextClass('hiddenPanel');
        });
    }
    for (let i = 1; i <= runs; i++) {
        await step(`again after choosing the Problems tab ${i}`, async () => {
            await panelTab('Problems').click();
            await page.locator('.part.panel .markers-panel').first().waitFor({ state: 'visible', timeout: 10_000 });
            return summaryOfNextClass('otherTab');
        });
    }
    for (let i = 1; i <= runs; i++) {
        await step(`another class while in view ${i}`, () => summaryOfNextClass('open'));
    }
    // The view itself closed ("Hide 'Shape Summary'" in its tab's menu): VS Code disposes its
    // webview, so the command makes a new one.
    for (let i = 1; i <= 1; i++) {
        await step(`again after closing the view ${i}`, async () => {
            await panelTab('Shape Summary').click({ button: 'right' });
            // The menu's entry chosen from the keyboard (a click on it was not always taken).
            await page.locator('.context-view .monaco-menu').first().waitFor({ timeout: 10_000 });
            for (let k = 0; k < 6; k++) {
                await page.keyboard.press('ArrowDown');
                const focused = await page.locator('.context-view .monaco-menu .action-item.focused').first().innerText().catch(() => '');
                if (focused.startsWith("Hide 'Shape Summary'")) break;
            }
            await page.keyboard.press('Enter');
            await panelTab('Shape Summary').waitFor({ state: 'detached', timeout: 10_000 });
            return summaryOfNextClass('closedView');
        });
    }
    const stats = (list) => {
        const sorted = [...list].sort((a, b) => a - b);
        return { runs: list, median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
    };
    result.summaryPanelMs = Object.fromEntries(Object.keys(logged).map((kind) => [kind, { ...stats(logged[kind]), driver: stats(driver[kind]) }]));
    await step('timings', async () => `command -> summary drawn: ${JSON.stringify(result.summaryPanelMs)}`);
}

try {
    if (args.scenario === 'summary-bench') {
        await summaryBench();
    } else {
        await main();
    }
} catch (error) {
    if (!(error instanceof Fatal)) {
        result.steps.push({ name: 'driver', ok: false, detail: String(error?.stack ?? error), ms: 0 });
        console.log(`FAIL  driver: ${error?.stack ?? error}`);
    }
    await shot('failure');
} finally {
    if (browser) await browser.close().catch(() => {});
    // Each code-server's whole process group: a lone kill can leave a file watcher behind.
    const alive = codeServers.filter((child) => child.exitCode === null);
    for (const child of alive) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    }
    if (alive.length) await new Promise((r) => setTimeout(r, 1000));
    for (const child of alive) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    // The extension's own log (its LogOutputChannel) and code-server's output, for diagnosis.
    const logs = [];
    const walk = (dir) => {
        for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (/ShapeLens\.log$|exthost\.log$/.test(entry.name)) logs.push(full);
        }
    };
    walk(path.join(userDir, 'logs'));
    const firstRun = logs.length;
    walk(path.join(tmp, 'user-restricted', 'logs'));
    logs.forEach((file, i) => {
        const name = i < firstRun ? path.basename(file) : `restricted-${path.basename(file)}`;
        fs.copyFileSync(file, path.join(args.out, name));
    });
    fs.writeFileSync(path.join(args.out, 'code-server.log'), serverLog.join(''));
    writeResult();
    if (!args.keep) fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`e2e: ${result.steps.filter((s) => s.ok).length} of ${result.steps.length} steps ok (${result.seconds.toFixed(1)} s); results in ${path.relative(ROOT, args.out)}`);
    process.exit(result.ok ? 0 : 1);
}
