// Drives the real Redux DevTools web UI in headless Chromium for the Go
// integration tests: connects it to a relay, waits until an action type
// shows on the page, and keeps a screenshot; with TRAVEL=first it then
// moves the time-travel slider to the first state, as a user does.
//
//   node ui.mjs RELAY_PORT ACTION_TYPE SCREENSHOT.png USER_DATA_DIR [SOCKET_PORT [TRAVEL]]
//
// The page comes from the relay on RELAY_PORT; the UI connects to
// SOCKET_PORT (default: the relay; or a Go process's embedded endpoint).
//
// Prints JSON lines: {"connected":true}, then {"seen":true}, then with
// TRAVEL {"travelled":true}; or {"error":…}.
import puppeteer from 'puppeteer-core';

const [port, actionType, screenshot, userDataDir, socketPort = port, travel = ''] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${userDataDir}`,
  ],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'networkidle0' });
  const button = async (text) => {
    const [b] = await page.$$(`xpath/.//button[normalize-space(.)="${text}"]`);
    if (!b) throw new Error(`no button "${text}"`);
    await b.click();
  };
  await button('Settings');
  await page.waitForSelector('input[name=root_type][value="1"]');
  await page.click('input[name=root_type][value="1"]');
  await page.waitForSelector('input[name=root_hostname]');
  await page.$eval('input[name=root_hostname]', (el) => { el.value = ''; });
  await page.type('input[name=root_hostname]', '127.0.0.1');
  await page.$eval('input[name=root_port]', (el) => { el.value = ''; });
  await page.type('input[name=root_port]', String(socketPort));
  if (await page.$eval('input[name=root_secure]', (el) => el.checked)) {
    await page.click('input[name=root_secure]');
  }
  await button('Connect');
  await button('Actions');
  out({ connected: true });
  await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout: 60000, polling: 200 }, actionType);
  await page.screenshot({ path: screenshot });
  out({ seen: true, screenshot });
  if (travel) {
    // Time travel as a user does it: the slider under the action list
    // (the list's own Jump buttons are hidden for an instance that cannot
    // skip actions). Home moves the slider to the first state.
    const slider = await page.waitForSelector('input[type=range]', { visible: true, timeout: 10000 });
    await slider.focus();
    await page.keyboard.press('Home');
    out({ travelled: true });
  }
} catch (err) {
  out({ error: String(err) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
