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

/** Debian's Chromium, headless, with a fresh temporary profile of its own. */
export const launch = () =>
  chromium.launch({
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

/** A desk-sized page in Chinese, signed in to the console at GW_URL as GW_USER. */
export async function signIn(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' })
  page.setDefaultTimeout(20_000)
  await page.goto(`${env('GW_URL')}/console/`)
  await page.locator('[data-test=login-user] input').fill(env('GW_USER'))
  await page.locator('[data-test=login-password] input').fill(env('GW_PASSWORD'))
  await page.locator('[data-test=login-submit]').click()
  await page.locator('[data-test=queue]').waitFor()
  return page
}
