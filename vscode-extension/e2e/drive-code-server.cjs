#!/usr/bin/env node
/*
 * Drives a running code-server (VS Code in the browser) through Debian's Chromium with playwright-core,
 * for tests/e2e/test_vscode_e2e.py. One scenario per run; prints one JSON line with what it saw.
 *
 *   node drive-code-server.cjs --url URL --scenario complete|docstring|unreachable --file NAME
 *        --artifacts DIR [--server URL] [--chromium PATH] [--type TEXT]
 *
 * playwright-core is found through NODE_PATH (scripts/e2e_vscode_setup.sh installs it in the cache).
 * Every wait is a wait-for with a generous timeout; no fixed sleeps.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const STATUS_ITEM = '[aria-label^="Pylot:"]';
const GHOST = '.monaco-editor .ghost-text-decoration';

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) {
      throw new Error(`unexpected argument ${argv[i]}`);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ['url', 'scenario', 'file', 'artifacts']) {
    if (!args[required]) {
      throw new Error(`--${required} is required`);
    }
  }
  return args;
}

const normalise = (text) => (text || '').replace(/\u00a0/g, ' ');

class Driver {
  constructor(page, args, result) {
    this.page = page;
    this.args = args;
    this.result = result;
    this.shots = 0;
  }

  async screenshot(name) {
    const file = path.join(this.args.artifacts, `${this.args.scenario}-${String(++this.shots).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file }).catch(() => undefined);
    this.result.screenshots.push(file);
  }

  step(name) {
    this.result.steps.push({ name, at_ms: Date.now() - this.result.started });
  }

  async statusLabel() {
    return this.page.locator(STATUS_ITEM).first().getAttribute('aria-label');
  }

  /** The workbench is up and the extension has activated (its status-bar item is there). */
  async waitForWorkbench() {
    await this.page.goto(this.args.url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    this.step('workbench');
    await this.page.locator(STATUS_ITEM).first().waitFor({ state: 'attached', timeout: 120_000 });
    this.result.status_first = await this.statusLabel();
    this.step('extension active');
  }

  async waitForStatus(prefix, timeout = 90_000) {
    await this.page.waitForFunction(
      ([selector, wanted]) =>
        [...document.querySelectorAll(selector)].some((el) => (el.getAttribute('aria-label') || '').startsWith(wanted)),
      [STATUS_ITEM, prefix],
      { timeout },
    );
    return this.statusLabel();
  }

  /** Opens a workspace file with Quick Open and waits until its editor has focus. */
  async openFile(name) {
    const input = this.page.locator('.quick-input-widget input');
    // Quick Open can swallow the first keystrokes while the workbench is still restoring: retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.page.keyboard.press('Control+P');
      try {
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        break;
      } catch {
        await this.page.locator('.monaco-workbench').click({ position: { x: 600, y: 300 } }).catch(() => undefined);
      }
    }
    await input.fill(name);
    await this.page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator(`.tab[data-resource-name="${name}"], .tab[aria-label^="${name}"]`).first().waitFor({ timeout: 30_000 });
    const editor = this.page.locator('.editor-group-container.active .monaco-editor textarea, .editor-group-container.active .monaco-editor .native-edit-context').first();
    await editor.waitFor({ state: 'attached', timeout: 30_000 });
    await this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    this.step(`opened ${name}`);
  }

  async ghostText() {
    const parts = await this.page.locator(GHOST).allTextContents();
    return normalise(parts.join(''));
  }

  async waitForGhost(predicate, timeout) {
    const deadline = Date.now() + timeout;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.ghostText();
      if (last && predicate(last)) {
        return last;
      }
      await this.page.locator(GHOST).first().waitFor({ state: 'attached', timeout: Math.max(1, deadline - Date.now()) }).catch(() => undefined);
      await this.page.waitForTimeout(100);
    }
    throw new Error(`no ghost text within ${timeout} ms (last seen: ${JSON.stringify(last)})`);
  }

  async isDirty() {
    return this.page.locator('.editor-group-container.active .tab.active.dirty').count().then((n) => n > 0);
  }

  async save() {
    await this.page.keyboard.press('Control+S');
    await this.page.waitForFunction(
      () => !document.querySelector('.editor-group-container.active .tab.active.dirty'),
      undefined,
      { timeout: 30_000 },
    );
    this.step('saved');
  }

  async toasts() {
    return this.page.locator('.notifications-toasts .notification-toast').count();
  }

  /** The editors the server lists (GET /v1/editors), once a VS Code shows up; null where the route is missing. */
  async connectedEditors(timeout = 20_000) {
    if (!this.args.server) {
      return null;
    }
    const deadline = Date.now() + timeout;
    let data = [];
    while (Date.now() < deadline) {
      const response = await fetch(`${this.args.server}/v1/editors`).catch(() => undefined);
      if (response && response.status === 404) {
        return null;
      }
      if (response && response.ok) {
        data = (await response.json()).data || [];
        if (data.some((e) => e.editor === 'vscode')) {
          return data;
        }
      }
      await this.page.waitForTimeout(250);
    }
    return data;
  }

  /** How the server's feedback counters moved since `before`, once `done(delta)` holds (or 10 s passed). */
  async feedbackDelta(before, done) {
    let delta = {};
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const now = ((await this.serverStatus()) || {}).feedback || {};
      delta = Object.fromEntries(['views', 'accepts', 'dismisses'].map((k) => [k, (now[k] || 0) - (before[k] || 0)]));
      if (done(delta)) {
        break;
      }
      await this.page.waitForTimeout(200);
    }
    return delta;
  }

  async serverStatus() {
    if (!this.args.server) {
      return undefined;
    }
    const response = await fetch(`${this.args.server}/v1/status`).catch(() => undefined);
    return response && response.ok ? response.json() : undefined;
  }
}

const scenarios = {
  /** Type, see ghost text, type along it (served from the cache), Tab, save. */
  async complete(d) {
    await d.waitForWorkbench();
    d.result.status_ready = await d.waitForStatus('Pylot: ready');
    await d.openFile(d.args.file);
    await d.page.keyboard.press('Control+End');
    await d.screenshot('opened');

    const feedbackBefore = ((await d.serverStatus()) || {}).feedback;
    const typed = d.args.type || ' ';
    await d.page.keyboard.type(typed, { delay: 60 });
    d.step('typed');
    const ghost = await d.waitForGhost((text) => text.trim().length > 0, 120_000);
    d.result.ghost_first = ghost;
    d.step('ghost text');
    await d.screenshot('ghost');

    // Escape dismisses it (our keybinding reports the dismissal, then hides the ghost text).
    await d.page.keyboard.press('Escape');
    await d.page.waitForFunction((selector) => !document.querySelector(selector), GHOST, { timeout: 10_000 });
    d.step('dismissed');

    // Type the first character of the suggestion: the rest must show at once, from the cache.
    const before = await d.serverStatus();
    const next = ghost[0];
    let typedAlong = '';
    if (next && next.trim()) {
      await d.page.keyboard.type(next);
      typedAlong = next;
      const started = Date.now();
      d.result.ghost_after_typing = await d.waitForGhost((text) => text === ghost.slice(1), 5_000).catch(() => null);
      d.result.ghost_after_typing_ms = Date.now() - started;
      const after = await d.serverStatus();
      if (before && after) {
        d.result.requests_during_type_along = (after.requests_total ?? 0) - (before.requests_total ?? 0);
      }
      d.step('typed along');
    }
    d.result.typed = typed + typedAlong;
    const rest = await d.ghostText();
    d.result.ghost_accepted = rest;
    await d.page.keyboard.press('Tab');
    await d.page.waitForFunction((selector) => !document.querySelector(selector), GHOST, { timeout: 10_000 }).catch(() => undefined);
    d.step('accepted');
    await d.save();
    await d.screenshot('accepted');
    // Accepting moves the cursor, which may start a new request ("working"): wait for it to settle.
    d.result.status_last = await d.waitForStatus('Pylot: ready', 120_000).catch(() => d.statusLabel());
    d.result.toasts = await d.toasts();
    d.result.editors = await d.connectedEditors();
    if (feedbackBefore) {
      d.result.feedback_delta = await d.feedbackDelta(feedbackBefore, (delta) => delta.accepts >= 1 && delta.dismisses >= 1);
    }
  },

  /** Cursor in a function, "Pylot: Generate Docstring" from the command palette, save. */
  async docstring(d) {
    await d.waitForWorkbench();
    d.result.status_ready = await d.waitForStatus('Pylot: ready');
    await d.openFile(d.args.file);
    const line = d.args.line || '1';
    await d.page.keyboard.press('Control+G');
    await d.page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 10_000 });
    await d.page.keyboard.type(`${line}:5`);
    await d.page.keyboard.press('Enter');
    await d.page.keyboard.press('F1');
    await d.page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 10_000 });
    await d.page.keyboard.type('Pylot: Generate Docstring');
    await d.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Generate Docstring' }).first().waitFor({ timeout: 30_000 });
    await d.page.keyboard.press('Enter');
    d.step('command run');
    await d.page.waitForFunction(
      () => !!document.querySelector('.editor-group-container.active .tab.active.dirty'),
      undefined,
      { timeout: 180_000 },
    );
    d.step('document changed');
    await d.screenshot('docstring');
    await d.save();
    d.result.status_last = await d.waitForStatus('Pylot: ready', 120_000).catch(() => d.statusLabel());
  },

  /** A server that is not there: a quiet error state in the status bar, no pop-ups, even while typing. */
  async unreachable(d) {
    await d.waitForWorkbench();
    d.result.status_error = await d.waitForStatus('Pylot: error');
    await d.openFile(d.args.file);
    await d.page.keyboard.press('Control+End');
    await d.page.keyboard.type(' x = 1', { delay: 60 });
    // Give the provider its debounce and a failed request: wait until the status bar says error again.
    d.result.status_after_typing = await d.waitForStatus('Pylot: error', 30_000);
    await d.screenshot('unreachable');
    d.result.toasts = await d.toasts();
  },
};

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.artifacts, { recursive: true });
  const scenario = scenarios[args.scenario];
  if (!scenario) {
    throw new Error(`unknown scenario ${args.scenario}`);
  }
  const result = { scenario: args.scenario, ok: false, steps: [], screenshots: [], started: Date.now() };
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pylot-chromium-'));
  // A fresh profile each run, so nothing carries over between scenarios.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  const console_ = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && console_.length < 50) {
      console_.push(message.text().slice(0, 300));
    }
  });
  const driver = new Driver(page, args, result);
  try {
    await scenario(driver);
    result.ok = true;
  } catch (err) {
    result.error = String(err && err.stack ? err.stack : err);
    await driver.screenshot('failure');
  } finally {
    result.elapsed_ms = Date.now() - result.started;
    result.browser_console_errors = console_;
    await context.close().catch(() => undefined);
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err) })}\n`);
  process.exitCode = 2;
});
