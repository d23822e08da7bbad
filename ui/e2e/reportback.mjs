// A department handler reports back in the console in a real browser
// (Debian's Chromium, headless, through playwright-core): a non-image is
// refused with the zh-CN message, then a report and a JPEG resolve the
// incident dispatched to them.
//
// Run by tests/tests/reportback.rs against a real gridwork-server. Reads
// GW_URL, GW_USER, GW_PASSWORD, GW_INCIDENT, GW_PHOTO, GW_NOT_PHOTO,
// GW_SCREENSHOTS; prints one JSON line with what it saw; exits non-zero on
// any failure.
import { join } from 'node:path'
import { env, launch, screenshots, signIn } from './browser.mjs'

const incident = env('GW_INCIDENT')
const shots = screenshots()

const browser = await launch()
const seen = {}
try {
  const page = await signIn(browser)
  await page.locator(`[data-test=row-${incident}] [data-test=open]`).click()
  await page.locator('[data-test=report-back]').waitFor()
  seen.heading = (await page.locator('[data-test=report-back] h2').textContent())?.trim()
  // Dispatching and escalating are supervisors' work: not offered here.
  seen.supervisorForms =
    (await page.locator('[data-test=dispatch-form]').count()) +
    (await page.locator('[data-test=escalate-form]').count())

  // A file that is not a photo is refused, and says why.
  await page.locator('[data-test=report-photos]').setInputFiles(env('GW_NOT_PHOTO'))
  seen.notPhotoError = (await page.locator('[data-test=report-error]').textContent())?.trim()
  seen.photosAfterRefusal = await page.locator('[data-test=report-photo]').count()

  // The report and a real photo.
  await page.locator('[data-test=report-text] textarea').fill('占道摊位已清理，现场恢复通行')
  await page.locator('[data-test=report-photos]').setInputFiles(env('GW_PHOTO'))
  await page.locator('[data-test=report-photo]').first().waitFor()
  seen.photos = await page.locator('[data-test=report-photo]').count()
  await page.screenshot({ path: join(shots, 'report-back.png'), fullPage: true })
  await page.locator('[data-test=report-submit]').click()
  await page.locator('[data-test=status]', { hasText: '已办结' }).waitFor()
  seen.status = (await page.locator('[data-test=status]').first().textContent())?.trim()
  seen.panelGone = (await page.locator('[data-test=report-back]').count()) === 0
  await page.screenshot({ path: join(shots, 'report-back-resolved.png'), fullPage: true })
} finally {
  await browser.close()
}
console.log(JSON.stringify(seen))
