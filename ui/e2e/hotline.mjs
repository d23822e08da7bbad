// 12345 import and a dispute's mediation in the console, in a real browser
// (Debian's Chromium, headless, playwright-core).
//
// Run by tests/tests/hotline.rs against a real gridwork-server. Reads
// GW_URL, GW_USER, GW_PASSWORD, GW_ORDERS (the JSON file's text) and
// GW_SCREENSHOTS; prints one JSON line with what it saw; exits non-zero on
// any failure.
import { join } from 'node:path'
import { env, launch, screenshots, signIn } from './browser.mjs'

const shots = screenshots()

const browser = await launch()
const seen = {}
try {
  const page = await signIn(browser)

  // Import the file through the picker.
  await page.locator('[data-test=nav-hotline]').click()
  await page.locator('[data-test=hotline-file]').setInputFiles({
    name: '12345工单.json',
    mimeType: 'application/json',
    buffer: Buffer.from(env('GW_ORDERS')),
  })
  await page.locator('[data-test=hotline-submit]').click()
  await page.locator('[data-test=hotline-report]').waitFor()
  seen.imported = await page.locator('[data-test=hotline-row-imported]').count()
  seen.unplaced = await page.locator('[data-test=hotline-row-unplaced]').count()
  seen.reason = (await page.locator('[data-test=hotline-row-unplaced] .reason').first().textContent())?.trim()
  await page.screenshot({ path: join(shots, 'hotline-import.png'), fullPage: true })

  // Open the imported dispute and record its mediation.
  await page.locator('[data-test=hotline-row-imported] a').first().click()
  await page.locator('[data-test=mediation]').waitFor()
  await page.locator('[data-test=mediation-mediator] input').fill('王调解')
  await page.locator('[data-test=mediation-method]').selectOption('joint')
  await page.locator('[data-test=mediation-outcome] textarea').fill('双方同意共同出资修缮')
  await page.locator('[data-test=mediation-save]').click()
  await page.locator('[data-test=mediation-record]').waitFor()
  seen.mediation = (await page.locator('[data-test=mediation-record]').textContent())?.replace(/\s+/g, ' ').trim()
  await page.screenshot({ path: join(shots, 'incident-mediation.png'), fullPage: true })
} finally {
  await browser.close()
}
console.log(JSON.stringify(seen))
