/**
 * Loaded with `node --require` before the tests: makes `import * as vscode from 'vscode'` resolve to the
 * small double in vscode-double.ts, so that the classes that touch VS Code types can be tested in Node.
 */
import Module = require('module');

const double = require.resolve('./vscode-double');
const moduleInternals = Module as unknown as {
  _resolveFilename(request: string, ...rest: unknown[]): string;
};
const resolve = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? double : resolve.call(this, request, ...rest);
};
