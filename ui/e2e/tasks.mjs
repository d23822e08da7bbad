// Issuing a checklist task to a community's grids in the console, in a real
// browser (Debian's Chromium, headless, playwright-core), then following it.
//
// Run by tests/tests/tasks.rs against a real gridwork-server. Reads GW_URL,
// GW_USER, GW_PASSWORD, GW_DUE (YYYY-MM-DD) and GW_SCREENSHOTS; prints one
// JSON line with what it saw; exits non-zero on any failure.
import { join } from 'node:path'
import { env, launch, screenshots, signIn } from './browser.mjs'

const shots = screenshots()

const browser = await launch()
const seen = {}
try {
  const page = await signIn(browser)
  await page.locator('[data-test=nav-tasks]').click()
  await page.locator('[data-test=task-form]').waitFor()

  // Sending an empty form says what is missing and sends nothing.
  await page.locator('[data-test=task-submit]').click()
  seen.problems = (await page.locator('[data-test=task-problems]').textContent())?.trim()

  await page.locator('[data-test=task-title]').fill('冬季消防安全检查')
  await page.locator('[data-test=task-due]').fill(env('GW_DUE'))
  await page.locator('[data-test=task-description]').fill('逐户检查电动车充电和燃气')
  await page.locator('[data-test=task-lines]').fill('检查楼道电动车\n\n检查燃气报警器\n')
  await page.locator('[data-test=task-submit]').click()
  await page.locator('[data-test=task-issued]').waitFor()
  seen.issued = (await page.locator('[data-test=task-issued]').textContent())?.trim()
  await page.locator('[data-test=task-campaign]').first().waitFor()
  seen.campaigns = await page.locator('[data-test=task-campaign]').count()
  seen.completion = (await page.locator('[data-test=task-completion]').first().textContent())?.trim()
  await page.screenshot({ path: join(shots, 'tasks.png'), fullPage: true })

  // The drill-down, grid by grid.
  await page.locator('[data-test=task-campaign] a').first().click()
  await page.locator('[data-test=task-detail]').waitFor()
  seen.gridRows = await page.locator('details.grid-task').count()
  await page.locator('details.grid-task summary').first().click()
  await page.screenshot({ path: join(shots, 'task-campaign.png'), fullPage: true })

  // The page in English.
  await page.locator('[data-test=locale-en]').click()
  await page.locator('[data-test=nav-tasks]').click()
  seen.englishHeading = (await page.locator('[data-test=task-form] h2').textContent())?.trim()
} finally {
  await browser.close()
}
console.log(JSON.stringify(seen))
