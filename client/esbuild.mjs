// Bundles the extension client (client/src/extension.ts and its dependencies, such as
// vscode-languageclient) into one file, dist/extension.js, which package.json's "main" names,
// and the shape summary panel's page into dist/summary.js + dist/summary.css.
//   node client/esbuild.mjs               development build, with a source map
//   node client/esbuild.mjs --production  minified, for the .vsix
//   node client/esbuild.mjs --watch       rebuild on change
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints errors as `file:line:col: error: text`, which VS Code's problem matchers read. */
const reportProblems = {
    name: 'report-problems',
    setup(build) {
        build.onEnd((result) => {
            for (const { text, location } of [...result.errors, ...result.warnings]) {
                const where = location ? `${location.file}:${location.line}:${location.column}: ` : '';
                console.error(`${where}${result.errors.length ? 'error' : 'warning'}: ${text}`);
            }
        });
    },
};

const options = {
    absWorkingDir: root,
    entryPoints: ['client/src/extension.ts'],
    outfile: 'dist/extension.js',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    minify: production,
    sourcemap: production ? false : 'linked',
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [reportProblems],
};

// The shape summary panel's page (client/webview/summary.ts with dagre, and its stylesheet):
// dist/summary.js and dist/summary.css, loaded by the webview; no network needed.
const webview = {
    ...options,
    entryPoints: ['client/webview/summary.ts'],
    outfile: 'dist/summary.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    external: [],
};

if (watch) {
    for (const build of [options, webview]) {
        const context = await esbuild.context(build);
        await context.watch();
    }
} else {
    const results = await Promise.all([esbuild.build(options), esbuild.build(webview)]);
    if (results.some((result) => result.errors.length)) {
        process.exit(1);
    }
}
