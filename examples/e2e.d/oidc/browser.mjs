// Signs in to Vetted's pages with the provider's authorization code flow in Chromium, as
// a person does (the button, the provider's login and consent pages, Continue), then
// opens the review queue. Prints one JSON line: {status, url, signedInAs, heading}.
// Usage: node browser.mjs CHROMIUM VETTED_URL USER SPKI_HASH
import puppeteer from 'puppeteer-core';

const [chromium, vetted, user, spki] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki}`],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(`${vetted}/ui/queue`); // not signed in: the login page
  await Promise.all([page.waitForNavigation(), page.click('a[href^="/ui/oidc/start"]')]);
  // The provider's login page (devInteractions): any login, any password.
  await page.type('input[name=login]', user);
  await page.type('input[name=password]', 'any');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  // Its consent page.
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  // Back at Vetted: "Signed in", Continue.
  await Promise.all([page.waitForNavigation(), page.click('a#continue')]);
  const resp = await page.reload();
  const out = await page.evaluate(() => ({
    heading: document.querySelector('h1')?.textContent?.trim() ?? '',
    signedInAs: document.querySelector('strong')?.textContent?.trim() ?? '',
    text: document.body.innerText.slice(0, 400),
  }));
  console.log(JSON.stringify({ status: resp.status(), url: page.url(), ...out }));
} finally {
  await browser.close();
}
