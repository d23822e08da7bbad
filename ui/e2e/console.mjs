// The supervisor console in a real browser: Debian's Chromium, headless,
// driven by playwright-core (never `npx playwright install`).
//
// Run by tests/tests/console_e2e.rs against a real gridwork-server. Reads
// GW_URL, GW_USER, GW_PASSWORD, GW_HOUSEHOLD, GW_INCIDENT, GW_SCREENSHOTS
// from the environment; prints one JSON line with what it saw; exits
// non-zero on any failure.
import { join } from 'node:path'
import { env, launch, screenshots, signIn } from './browser.mjs'

const household = env('GW_HOUSEHOLD')
const incident = env('GW_INCIDENT')
const shots = screenshots()

const browser = await launch()
const seen = {}
try {
  // Sign in.
  const page = await signIn(browser)
  await page.locator(`[data-test=row-${household}]`).waitFor()
  seen.queueTitle = await page.title()
  // The menu, and the sections the server says the user may open.
  seen.menu = await page.locator('nav [data-test^=nav-]').evaluateAll((links) => links.map((a) => a.dataset.test))
  seen.sections = await page.evaluate(async () => (await (await fetch('/console/api/me')).json()).sections)
  await page.screenshot({ path: join(shots, 'queue.png'), fullPage: true })

  // Return the household with a comment.
  await page.locator(`[data-test=row-${household}] [data-test=open]`).click()
  await page.locator('[data-test=actions]').waitFor()
  await page.locator('[data-test=comment] textarea').fill('门牌照片不清楚，请重拍')
  await page.locator('[data-test=return]').click()
  seen.returnComment = (await page.locator('[data-test=return-comment]').textContent())?.trim()
  await page.screenshot({ path: join(shots, 'household-returned.png'), fullPage: true })
  // Full numbers on request, which the server logs.
  await page.locator('[data-test=reveal]').click()
  await page.locator('[data-test=revealed]').waitFor()

  // Accept, dispatch and escalate the incident.
  await page.locator('[data-test=back]').click()
  await page.locator(`[data-test=row-${incident}] [data-test=open]`).click()
  // The page shows a button for what the server offers and nothing else.
  await page.locator('[data-test=incident-accept]').waitFor()
  seen.offeredOnReported = await page.evaluate(
    async (id) => (await (await fetch(`/console/api/records/${id}`)).json()).actions,
    incident,
  )
  seen.buttonsOnReported = await page
    .locator('[data-test=actions] [data-test]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-test')))
  await page.locator('[data-test=incident-accept]').click()
  await page.locator('[data-test=dispatch-form]').waitFor()
  seen.acceptButtonsOnceAccepted = await page.locator('[data-test=incident-accept]').count()
  await page.locator('[data-test=dispatch-department]').selectOption('城管')
  await page.locator('[data-test=dispatch-days]').fill('3')
  await page.locator('[data-test=comment] textarea').fill('请三个工作日内处置')
  await page.locator('[data-test=dispatch]').click()
  seen.assignee = (await page.locator('[data-test=assignee]').textContent())?.trim()
  await page.locator('[data-test=timeline]').waitFor()
  await page.screenshot({ path: join(shots, 'incident-dispatched.png'), fullPage: true })
  await page.locator('[data-test=escalate-level]').selectOption('street')
  await page.locator('[data-test=comment] textarea').fill('涉及多个部门，需街道协调')
  await page.locator('[data-test=escalate]').click()
  await page.locator('[data-test=incident-state]', { hasText: '街道' }).waitFor()
  seen.incidentState = (await page.locator('[data-test=incident-state]').textContent())?.trim()
  seen.timelineSteps = await page.locator('[data-test=timeline] li').count()
  await page.screenshot({ path: join(shots, 'incident-escalated.png'), fullPage: true })

  // The dashboard: figures that link to their records.
  await page.locator('[data-test=nav-dashboard]').click()
  await page.locator('[data-test=dashboard]').waitFor()
  seen.dashboardIncidents = (await page.locator('[data-test=figure-incidents] .value').textContent())?.trim()
  await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true })
  await page.locator('[data-test=figure-incidents]').click()
  await page.locator('[data-test=ledger]').waitFor()
  seen.drillRows = await page.locator('[data-test=ledger] tbody tr').count()

  // The household ledger, exported as XLSX through the browser's download.
  await page.locator('[data-test=ledger-households]').click()
  await page.locator(`[data-test=ledger-row-${household}]`).waitFor()
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-test=export-xlsx]').click(),
  ])
  const xlsx = join(shots, 'households.xlsx')
  await download.saveAs(xlsx)
  seen.xlsx = xlsx
  seen.xlsxName = download.suggestedFilename()
  await page.screenshot({ path: join(shots, 'ledger.png'), fullPage: true })

  // The map: grids shaded by a figure, incidents as markers.
  await page.locator('[data-test=nav-map]').click()
  await page.locator('[data-test=map] path.leaflet-interactive').first().waitFor()
  await page.locator('[data-test=map-figure]').selectOption('resolution_rate')
  seen.mapShapes = await page.locator('[data-test=map] path.leaflet-interactive').count()
  await page.screenshot({ path: join(shots, 'map.png'), fullPage: true })

  // The export is in the access log.
  await page.locator('[data-test=nav-access-log]').click()
  await page.locator('[data-test=access-row]').first().waitFor()
  seen.accessLogFirst = (await page.locator('[data-test=access-row]').first().textContent())?.trim()
  await page.screenshot({ path: join(shots, 'access-log.png'), fullPage: true })

  // English is one click away.
  await page.locator('[data-test=locale-en]').click()
  await page.locator('[data-test=nav-queue]').click()
  await page.locator(`[data-test=row-${incident}] [data-test=open]`).click()
  seen.englishBack = (await page.locator('[data-test=back]').textContent())?.trim()
} finally {
  await browser.close()
}
console.log(JSON.stringify(seen))
