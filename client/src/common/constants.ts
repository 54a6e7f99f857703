// Names and fixed values shared by the client's modules.

/** The configuration section and the prefix of every command and setting. */
export const SERVER_ID = 'shapelens';
/** Shown in the output channel, the status bar and messages. */
export const SERVER_NAME = 'ShapeLens';
/** The server starts as `<python> -m shapelens.server`, speaking LSP on stdio. */
export const SERVER_MODULE = 'shapelens.server';
/** The server's `workspace/executeCommand` command that runs the probe. */
export const SERVER_PROBE_COMMAND = 'shapelens.runProbe';

/** Where scripts/build-vsix.sh puts the server and its pure-Python dependencies, relative to
 * the extension's root. */
export const BUNDLED_LIBS_DIR = ['bundled', 'libs'];

/** The oldest Python the server supports. */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

export const PYTHON_EXTENSION_ID = 'ms-python.python';

export const Commands = {
    probe: 'shapelens.probe',
    showSummary: 'shapelens.showSummary',
    cancelProbe: 'shapelens.cancelProbe',
    restart: 'shapelens.restart',
    showOutput: 'shapelens.showOutput',
} as const;

/** Context key that is true while a probe runs (enables "ShapeLens: Cancel Probe"). */
export const PROBE_RUNNING_CONTEXT = 'shapelens.probeRunning';
