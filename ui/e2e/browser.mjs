// What the console's browser scripts share: reading their settings from the
// environment, Debian's Chromium started headless through playwright-core
// (never `npx playwright install`), and signing in.
import { mkdirSync } from 'node:fs'
import { chromium } from 'playwright-core'

/** The value of an environment variable the script needs. */
export const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}

/** The screenshot folder, created if missing. */
export const screenshots = () => {
  const dir = env('GW_SCREENSHOTS')
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Content-Security-Policy violations seen on any page (see `watch`). */
const violations = []

/**
 * Notes every Content-Security-Policy violation on `page`: the browser's
 * `securitypolicyviolation` event, reported from inside the page, and the
 * browser's own console message about it.
 */
export async function watch(page) {
  await page.exposeFunction('__gwCspViolation', (v) => violations.push(v))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__gwCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`)
    })
  })
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text())
  })
}

/**
 * Debian's Chromium, headless, with a fresh temporary profile of its own.
 * Closing it fails when any watched page broke the console's
 * Content-Security-Policy, so every script fails on a violation.
 */
export const launch = async () => {
  const browser = await chromium.launch({
    executablePath: process.env.GW_CHROMIUM ?? '/usr/bin/chromium',
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
    timeout: 30_000,
  })
  const close = browser.close.bind(browser)
  browser.close = async () => {
    await close()
    if (violations.length > 0) {
      throw new Error(`Content-Security-Policy violations:\n${[...new Set(violations)].join('\n')}`)
    }
  }
  return browser
}

/** A desk-sized page in Chinese, signed in to the console at GW_URL as GW_USER. */
export async function signIn(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' })
  page.setDefaultTimeout(20_000)
  await watch(page)
  await page.goto(`${env('GW_URL')}/console/`)
  await page.locator('[data-test=login-user] input').fill(env('GW_USER'))
  await page.locator('[data-test=login-password] input').fill(env('GW_PASSWORD'))
  await page.locator('[data-test=login-submit]').click()
  await page.locator('[data-test=queue]').waitFor()
  return page
}
