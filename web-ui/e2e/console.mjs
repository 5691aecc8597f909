// Drives the built console in Debian's Chromium (playwright-core, no browser download) against a running
// Pylot server. tests/e2e/test_web_console.py starts the server and runs one scenario per test:
//
//   node e2e/console.mjs SCENARIO --url http://127.0.0.1:PORT --out DIR [--key KEY] [--value N] [--model ID]
//
// SCENARIO: pages | settings | pull | playground | unicode | login | attacker. Screenshots go to DIR. The last line printed
// is a JSON object with what was seen; the exit status is 0 when the scenario's own checks passed.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
// Routes the console treats as optional: a 404 from them shows "not available", which is not an error.
const OPTIONAL_ROUTES = ['/v1/models/catalog']

function parseArgs(argv) {
  const [scenario, ...rest] = argv
  const args = { scenario }
  for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1]
  if (!args.url || !args.out) throw new Error('usage: console.mjs SCENARIO --url URL --out DIR [--key KEY]')
  return args
}

class Failure extends Error {}
function check(condition, message) {
  if (!condition) throw new Failure(message)
}

/** A fresh browser with its own scratch folder (HOME, TMPDIR), so nothing lands in the real home. */
async function launch(extraFlags = []) {
  const scratch = mkdtempSync(join(tmpdir(), 'pylot-web-e2e-'))
  for (const key of ['HOME', 'TMPDIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME']) {
    mkdirSync(join(scratch, key), { recursive: true })
  }
  const env = {
    ...process.env,
    HOME: join(scratch, 'HOME'),
    TMPDIR: join(scratch, 'TMPDIR'),
    XDG_CONFIG_HOME: join(scratch, 'XDG_CONFIG_HOME'),
    XDG_CACHE_HOME: join(scratch, 'XDG_CACHE_HOME'),
    XDG_DATA_HOME: join(scratch, 'XDG_DATA_HOME'),
  }
  // Playwright makes the fresh profile in os.tmpdir(), which reads TMPDIR.
  process.env.TMPDIR = env.TMPDIR
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...FLAGS, ...extraFlags],
    env,
    timeout: 60_000,
  })
  return {
    browser,
    close: async () => {
      await browser.close()
      rmSync(scratch, { recursive: true, force: true })
    },
  }
}

/** A page that records console errors, uncaught exceptions and failed requests. */
async function openPage(browser, args) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  if (args.key && args.scenario !== 'login') {
    // As if the user had signed in earlier in this tab.
    await context.addInitScript((key) => sessionStorage.setItem('pylot.apiKey', key), args.key)
  }
  const page = await context.newPage()
  const problems = []
  const unavailable = []
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    const where = msg.location()?.url ?? ''
    if (/status of 404/.test(msg.text()) && OPTIONAL_ROUTES.some((r) => where.includes(r))) {
      unavailable.push(new URL(where).pathname)
      return
    }
    if (args.expect401 && /status of 401/.test(msg.text())) return
    problems.push(`console: ${msg.text()} (${where})`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('requestfailed', (req) => {
    const reason = req.failure()?.errorText ?? ''
    // Leaving a page aborts its live log stream and status poll on purpose.
    if (reason.includes('ERR_ABORTED')) return
    problems.push(`request failed: ${req.method()} ${req.url()} ${reason}`)
  })
  return { page, problems, unavailable }
}

async function visit(page, url, path) {
  await page.goto(`${url}/#/${path}`, { waitUntil: 'domcontentloaded' })
  await page.waitForSelector('section[aria-busy="false"]', { timeout: 60_000 })
}

const shot = (page, out, name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true })

// What a hostile page tries against the server: in attacker.test's page, a JSON PATCH of the config (a
// CORS preflight), text/plain and form POSTs (no preflight), and a WebSocket; then, as DNS rebinding does,
// the server reached under the attacker's own name. The browser's own guard against pages reaching local
// servers (Local Network Access) is turned off: Pylot must hold by itself, as with browsers that lack it.
const ATTACKER_ORIGIN = 'http://attacker.test'
const REBIND_NAME = 'rebind.test'
const ATTACKER_FLAGS = [
  `--host-resolver-rules=MAP ${REBIND_NAME} 127.0.0.1`,
  '--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,BlockInsecurePrivateNetworkRequests',
]

async function attackFromPage(target) {
  const tries = {}
  const body = JSON.stringify({ backend: { url: 'http://attacker.test/steal' }, generation: { max_tokens: 3 } })
  try {
    await fetch(`${target}/v1/config`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body })
    tries.patchJson = 'read'
  } catch {
    tries.patchJson = 'blocked'
  }
  for (const [name, path, type] of [
    ['postText', '/v1/config', 'text/plain'],
    ['loadModel', '/v1/models/load', 'text/plain'],
    ['toolForm', '/v1/tools/parse_file', 'application/x-www-form-urlencoded'],
  ]) {
    try {
      await fetch(`${target}${path}`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': type }, body })
      tries[name] = 'sent'
    } catch {
      tries[name] = 'blocked'
    }
  }
  tries.websocket = await new Promise((resolve) => {
    const ws = new WebSocket(`${target.replace('http', 'ws')}/ws/completions`)
    ws.onopen = () => resolve('open')
    ws.onerror = () => resolve('refused')
    setTimeout(() => resolve('timeout'), 10_000)
  })
  return tries
}

/** The playground: optionally replace the code, ask for a completion, fail on an error or a console error. */
async function completeInPlayground(browser, args, { code, maxTokens, shotName }) {
  const { page, problems } = await openPage(browser, args)
  await visit(page, args.url, 'playground')
  if (code !== undefined) await page.getByLabel('Code').fill(code)
  await page.getByLabel(/Max tokens/).fill(maxTokens)
  await page.getByRole('button', { name: 'Complete' }).click()
  const result = page.getByTestId('completion-result').or(page.locator('section [role="alert"]'))
  await result.first().waitFor({ timeout: 180_000 })
  const alert = page.locator('section [role="alert"]')
  check((await alert.count()) === 0, `completion failed: ${(await alert.count()) ? await alert.innerText() : ''}`)
  const text = await page.getByTestId('completion-text').innerText()
  await shot(page, args.out, shotName)
  check(problems.length === 0, `console errors:\n${problems.join('\n')}`)
  return { page, text }
}

const scenarios = {
  async attacker(browser, args) {
    const context = await browser.newContext()
    await context.route(`${ATTACKER_ORIGIN}/**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>cat pictures</title>' }),
    )
    const statuses = []
    context.on('response', (r) => {
      if (r.url().startsWith(args.url)) statuses.push({ method: r.request().method(), path: new URL(r.url()).pathname, status: r.status() })
    })
    const page = await context.newPage()
    await page.goto(`${ATTACKER_ORIGIN}/`)
    const tries = await page.evaluate(attackFromPage, args.url)
    const port = new URL(args.url).port
    const rebound = await page.goto(`http://${REBIND_NAME}:${port}/v1/config`)
    const reboundText = await rebound.text()
    const wsRebound = await page.evaluate(attackFromPage, `http://${REBIND_NAME}:${port}`)
    check(tries.websocket !== 'open' && wsRebound.websocket !== 'open', 'a WebSocket from the page was opened')
    check(tries.patchJson !== 'read', 'the page read the answer to its PATCH')
    check(rebound.status() === 421, `the rebound name got HTTP ${rebound.status()}`)
    return { tries, statuses, rebound: { status: rebound.status(), text: reboundText }, wsRebound }
  },

  /** Every page loads and settles without a console error. */
  async pages(browser, args) {
    const { page, problems, unavailable } = await openPage(browser, args)
    const seen = {}
    for (const path of ['status', 'logs', 'models', 'settings', 'playground']) {
      const before = problems.length
      await visit(page, args.url, path)
      if (path === 'status') {
        // Two polls, so the charts have a line to draw.
        await page.waitForFunction(() => document.querySelectorAll('polyline[points*=" "]').length > 0, null, {
          timeout: 15_000,
        })
        seen.model = await page.locator('.stat').first().innerText()
      }
      if (path === 'logs') {
        await page.waitForSelector('[data-testid="log-connection"]:text("live")', { timeout: 15_000 })
        seen.logLines = await page.locator('.log-line').count()
      }
      if (path === 'settings') seen.sections = await page.locator('legend').allInnerTexts()
      await page.waitForTimeout(500)
      await shot(page, args.out, `page-${path}`)
      seen[path] = problems.slice(before)
    }
    check(problems.length === 0, `console errors:\n${problems.join('\n')}`)
    return { seen, unavailable }
  },

  /** Change generation.max_tokens in the form; the caller checks GET /v1/config. Then a refused value. */
  async settings(browser, args) {
    const { page, problems } = await openPage(browser, args)
    const value = String(args.value ?? '77')
    await visit(page, args.url, 'settings')
    const field = page.locator('[data-field="generation.max_tokens"] input')
    await field.fill(value)
    await page.getByRole('button', { name: 'Save generation' }).click()
    await page.getByText('Saved max_tokens.').waitFor({ timeout: 15_000 })
    await shot(page, args.out, 'settings-saved')

    // A value the server refuses: its message appears next to the field.
    const temperature = page.locator('[data-field="generation.temperature"] input')
    await temperature.fill('5')
    await page.getByRole('button', { name: 'Save generation' }).click()
    const error = page.locator('[data-field="generation.temperature"] [role="alert"]')
    await error.waitFor({ timeout: 15_000 })
    const errorText = await error.innerText()
    await shot(page, args.out, 'settings-refused')

    // A reload shows the saved value: it came from the server, not from the form's memory.
    await visit(page, args.url, 'settings')
    const reloaded = await field.inputValue()
    check(reloaded === value, `after reload the form shows max_tokens=${reloaded}, expected ${value}`)
    const otherProblems = problems.filter((p) => !/status of 400/.test(p))
    check(otherProblems.length === 0, `console errors:\n${otherProblems.join('\n')}`)
    return { saved: value, reloaded, errorText }
  },

  /** Pull a model from the Models page and watch the progress bar move. */
  async pull(browser, args) {
    const { page, problems, unavailable } = await openPage(browser, args)
    const id = args.model ?? 'smollm2-135m'
    await visit(page, args.url, 'models')
    // Every progress text the page shows, however briefly.
    await page.evaluate(() => {
      window.__progress = []
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid="pull-progress"]')) {
          const text = el.textContent ?? ''
          if (window.__progress.at(-1) !== text) window.__progress.push(text)
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true })
    })
    const row = page.getByTestId(`model-${id}`)
    if (await row.count()) {
      check(!(await row.innerText()).includes('loaded'), `${id} is already loaded; pick a model that is not`)
      await row.getByRole('button', { name: 'Pull' }).click()
    } else {
      await page.getByPlaceholder('smollm2-135m').fill(id)
      await page.locator('form.toolbar').getByRole('button', { name: 'Pull' }).click()
    }
    await shot(page, args.out, 'models-pulling')
    await page
      .locator('[role="status"]:text("Pulled"), [role="alert"]')
      .first()
      .waitFor({ timeout: 300_000 })
    const progress = await page.evaluate(() => window.__progress)
    const alert = page.locator('section [role="alert"]')
    const failed = (await alert.count()) ? await alert.first().innerText() : null
    await shot(page, args.out, 'models-pulled')
    check(failed == null, `pull failed: ${failed}`)
    check(progress.length > 0, 'no progress was shown')
    const final = progress.at(-1)
    check(/\(100\.0%\)/.test(final), `the last progress shown is not 100%: ${final}`)
    const rowText = (await page.getByTestId(`model-${id}`).count()) ? await page.getByTestId(`model-${id}`).innerText() : null
    check(problems.length === 0, `console errors:\n${problems.join('\n')}`)
    return { progress, rowText, unavailable }
  },

  /** Ask for a completion at the example's cursor and read it with its timing. */
  async playground(browser, args) {
    const { page, text } = await completeInPlayground(browser, args, { maxTokens: '24', shotName: 'playground' })
    const timing = await page.getByTestId('completion-timing').innerText()
    check(/ms|s round trip/.test(timing), `no timing shown: ${timing}`)
    return { text, timing }
  },

  /** Non-Latin text typed into the playground stays whole, and the answer is shown as sent. */
  async unicode(browser, args) {
    const { page, text } = await completeInPlayground(browser, args, {
      code: args.prompt,
      maxTokens: '16',
      shotName: 'unicode',
    })
    return { text, typed: await page.getByLabel('Code').inputValue() }
  },

  /** A server with a key: the console asks for it, refuses a wrong one, works with the right one. */
  async login(browser, args) {
    const { page, problems } = await openPage(browser, { ...args, expect401: true })
    await page.goto(`${args.url}/#/status`, { waitUntil: 'domcontentloaded' })
    const input = page.getByLabel('API key', { exact: true })
    await input.waitFor({ timeout: 30_000 })
    await shot(page, args.out, 'login-asked')
    await input.fill('not-the-key')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('The server did not accept this key.').waitFor({ timeout: 15_000 })
    await input.fill(args.key)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForSelector('section[aria-busy="false"] .stats', { timeout: 30_000 })
    const stored = await page.evaluate(() => sessionStorage.getItem('pylot.apiKey'))
    await shot(page, args.out, 'login-done')
    check(stored === args.key, 'the key is not in sessionStorage')
    check(problems.length === 0, `console errors:\n${problems.join('\n')}`)
    return { stored: stored != null }
  },
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const scenario = scenarios[args.scenario]
  if (!scenario) throw new Error(`unknown scenario ${args.scenario}; one of ${Object.keys(scenarios).join(', ')}`)
  mkdirSync(args.out, { recursive: true })
  const started = Date.now()
  const { browser, close } = await launch(args.scenario === 'attacker' ? ATTACKER_FLAGS : [])
  let result
  let ok = false
  let error = null
  try {
    result = await scenario(browser, args)
    ok = true
  } catch (e) {
    error = e instanceof Failure ? e.message : String(e?.stack ?? e)
  } finally {
    await close()
  }
  console.log(JSON.stringify({ scenario: args.scenario, ok, error, seconds: (Date.now() - started) / 1000, result }))
  process.exit(ok ? 0 : 1)
}

main().catch((e) => {
  console.log(JSON.stringify({ ok: false, error: String(e?.stack ?? e) }))
  process.exit(2)
})
