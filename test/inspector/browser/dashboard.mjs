// Loads the inspector dashboard in headless Chromium (Debian's, never a
// downloaded one) against a running engine, checks it shows the actors and
// that the numbers move, opens an actor's detail, and saves a screenshot.
//   node dashboard.mjs URL OUT.png
import { chromium } from "playwright-core";

const [url, shot] = process.argv.slice(2);
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => { if (!r.url().includes("/api/events")) errors.push("request failed: " + r.url()); });
  page.on("request", (r) => { if (!r.url().startsWith(url)) errors.push("external request: " + r.url()); });
  await page.goto(url);

  // Polls with page.evaluate: waitForFunction would need 'unsafe-eval',
  // which the page's Content-Security-Policy (rightly) does not allow.
  const until = async (fn, arg, what) => {
    for (let i = 0; i < 150; i++) {
      if (await page.evaluate(fn, arg)) return;
      await page.waitForTimeout(100);
    }
    fail("timed out waiting for " + what);
  };

  const updates = () => page.evaluate(() => Number(document.body.dataset.updates || 0));
  const observe = () => page.evaluate(() => ({
    rows: [...document.querySelectorAll("#actors tbody tr")].map((tr) =>
      [...tr.children].map((td) => td.textContent)),
    delivered: document.getElementById("c-delivered").textContent,
    status: document.getElementById("status").textContent,
  }));

  await until(() => Number(document.body.dataset.updates || 0) >= 2, null, "two updates");
  const first = await observe();
  if (first.status !== "live") fail("status is " + first.status);
  if (first.rows.length < 50) fail("only " + first.rows.length + " rows");
  if (!first.rows.every((r) => /^(worker-|odd-|flaky$)/.test(r[0]))) fail("unexpected ids");
  if (!first.rows.some((r) => r[1] === "Worker")) fail("no Worker type shown");
  const n = await updates();
  await until((n) => Number(document.body.dataset.updates || 0) >= n + 2, n, "two more updates");
  const second = await observe();
  if (second.delivered === first.delivered) fail("delivered did not move: " + first.delivered);
  const processed = (o) => o.rows.map((r) => r[0] + "=" + r[7]).join(",");
  if (processed(first) === processed(second)) fail("per-actor numbers did not move");

  // sort by id, filter, open one actor
  await page.click('th[data-sort="id"]');
  await page.fill("#q", "worker-00");
  await until(() => {
    const ids = [...document.querySelectorAll("#actors tbody tr")].map((tr) => tr.dataset.id);
    return ids.length === 10 && ids[0] === "worker-000";
  }, null, "the filtered, id-sorted table");
  await page.fill("#q", "");
  await page.click('th[data-sort="rate"]');
  await until(() => document.querySelectorAll("#actors tbody tr").length > 40, null, "the full table");
  await page.click('#actors tbody tr[data-id="worker-009"]');
  await until(() => document.getElementById("d-state").textContent.includes("worker-009"), null,
              "the actor's state");
  await page.click("#d-trace");
  await until(() => document.getElementById("d-trace-list").textContent.includes("work"), null,
              "a trace");
  // an id that is not UTF-8 (shown with U+FFFD) still opens: the page
  // addresses actors by id_url, not by the id it displays
  await page.fill("#q", "odd-");
  await until(() => document.querySelectorAll('#actors tbody tr[data-ref="odd-%FF-byte"]').length === 1,
              null, "the odd ids");
  await page.click('#actors tbody tr[data-ref="odd-%FF-byte"]');
  await until(() => document.getElementById("d-id").textContent.startsWith("odd-\ufffd-byte") &&
                    document.getElementById("d-state").textContent.includes('"count"'), null,
              "the detail of an id that is not UTF-8");
  await page.click("#d-trace");
  await until(() => document.getElementById("d-trace-list").textContent.includes("work"), null,
              "a trace of it");
  await page.fill("#q", "");
  // one more update at least; SHOT_WAIT_MS lets the chart fill up for docs
  await page.waitForTimeout(Number(process.env.SHOT_WAIT_MS || 1200));
  await page.screenshot({ path: shot, fullPage: true });
  if (errors.length) fail(errors.join("\n"));
  console.log("ok: " + second.rows.length + " rows, delivered " + first.delivered + " -> " +
              second.delivered + ", screenshot " + shot);
} finally {
  await browser.close();
}
