// Drives an example app (examples/app.rs on axum or examples/actix_app.rs
// on actix-web, the same application) in headless Chromium and checks
// the page and the session cookie the browser holds at each step.
//
// APP_URL: where the app listens (default http://localhost:3000).
// CHROMIUM: the browser binary (default /usr/bin/chromium).
// MAX_AGE, REFRESH_AFTER: the app's COOKIE_SESSION_MAX_AGE and
// COOKIE_SESSION_REFRESH_AFTER in seconds (default 14 days and half of it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const APP_URL = (process.env.APP_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const COOKIE = 'app_session';
const MAX_AGE = Number(process.env.MAX_AGE ?? 14 * 86400);
const REFRESH_AFTER = Number(process.env.REFRESH_AFTER ?? MAX_AGE / 2);

let context;
let page;
const profiles = [];

/** A browser with a profile of its own: its own cookie jar. */
async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'cookie-session-e2e-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // The app listens on 127.0.0.1; never try ::1 for localhost.
      '--host-resolver-rules=MAP localhost 127.0.0.1',
    ],
  });
}

before(async () => {
  context = await launch();
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
});

/** The session cookies the browser holds for the app. */
async function sessionCookies(ctx = context) {
  return (await ctx.cookies(APP_URL)).filter((c) => c.name === COOKIE);
}

/** The one session cookie, with its attributes checked. */
async function sessionCookie(ctx = context, pg = page) {
  const cookies = await sessionCookies(ctx);
  assert.equal(cookies.length, 1, `one ${COOKIE} cookie, got ${JSON.stringify(cookies)}`);
  const c = cookies[0];
  assert.equal(c.httpOnly, true, 'HttpOnly');
  assert.equal(c.secure, true, 'Secure (accepted on localhost)');
  assert.equal(c.sameSite, 'Lax', 'SameSite=Lax');
  assert.equal(c.path, '/', 'Path=/');
  assert.equal(c.domain, new URL(APP_URL).hostname, 'host-only cookie');
  const left = c.expires - Date.now() / 1000;
  assert.ok(left > MAX_AGE - 60 && left <= MAX_AGE + 1, `expires in ${MAX_AGE} s, got ${left}`);
  // HttpOnly: invisible to scripts.
  const visible = await pg.evaluate(() => document.cookie);
  assert.ok(!visible.includes(COOKIE), `document.cookie shows ${visible}`);
  return c;
}

/** The key id (hex) written in a cookie value: bytes 1..5 of the base64url. */
function keyIdOf(value) {
  return Buffer.from(value, 'base64url').subarray(1, 5).toString('hex');
}

async function text(selector, pg = page) {
  return (await pg.locator(selector).textContent())?.trim();
}

/** The Unix time in an element's data-unix attribute. */
async function unixAt(selector, pg = page) {
  return Number(await pg.locator(selector).getAttribute('data-unix'));
}

async function logIn(pg, name) {
  await pg.goto(`${APP_URL}/login`);
  await pg.fill('#username', name);
  await Promise.all([pg.waitForURL(`${APP_URL}/`), pg.click('#submit')]);
  assert.equal(await text('#user', pg), name);
}

async function flash() {
  const f = page.locator('#flash');
  return (await f.count()) === 0 ? null : (await f.textContent()).trim();
}

test('log in, flash once, count, rotate keys, log out', async () => {
  // A first visit that changes nothing sets no cookie.
  await page.goto(`${APP_URL}/`);
  assert.match(await text('#who'), /Not logged in/);
  assert.equal((await sessionCookies()).length, 0);

  // Log in: the flash shows once.
  await page.click('#login');
  await page.fill('#username', 'alice');
  await Promise.all([page.waitForURL(`${APP_URL}/`), page.click('#submit')]);
  assert.equal(await flash(), 'Welcome, alice! You are logged in.');
  assert.equal(await text('#user'), 'alice');
  const afterLogin = await sessionCookie();
  // The response that showed the flash re-issued the cookie without it.
  const payload = Buffer.from(afterLogin.value, 'base64url').toString('latin1');
  assert.ok(payload.includes('alice') && !payload.includes('Welcome'), payload);

  // Reload: the flash is gone, the login stays, and a request that only
  // reads the session gets no new cookie.
  await page.reload();
  assert.equal(await flash(), null);
  assert.equal(await text('#user'), 'alice');
  assert.equal((await sessionCookie()).value, afterLogin.value);

  // The counter survives requests.
  for (let i = 1; i <= 3; i++) {
    await Promise.all([page.waitForURL(`${APP_URL}/`), page.click('#increment')]);
    assert.equal(await text('#count'), String(i));
    await sessionCookie();
  }
  await page.reload();
  assert.equal(await text('#count'), '3');
  const beforeRotation = await sessionCookie();
  assert.notEqual(beforeRotation.value, afterLogin.value);
  const oldKey = await text('#primary-key');
  assert.equal(keyIdOf(beforeRotation.value), oldKey);

  // Rotate keys: the cookie signed with the old key is still accepted, and
  // the browser gets it back signed with the new key.
  await Promise.all([page.waitForURL(`${APP_URL}/`), page.click('#rotate')]);
  assert.match(await flash(), /^Keys rotated/);
  const newKey = await text('#primary-key');
  assert.notEqual(newKey, oldKey);
  assert.equal(await text('#fallback-keys'), oldKey);
  assert.equal(await text('#user'), 'alice');
  assert.equal(await text('#count'), '3');
  const afterRotation = await sessionCookie();
  assert.equal(keyIdOf(afterRotation.value), newKey);
  await page.reload();
  assert.equal(await flash(), null);
  assert.equal(await text('#count'), '3');

  // Log out: goodbye flash once, and the cookie is gone.
  await Promise.all([page.waitForURL(`${APP_URL}/`), page.click('#logout')]);
  assert.equal(await flash(), 'You have been logged out.');
  assert.match(await text('#who'), /Not logged in/);
  assert.equal(await text('#count'), '0');
  assert.deepEqual(await sessionCookies(), []);
  await page.reload();
  assert.equal(await flash(), null);
  assert.match(await text('#who'), /Not logged in/);
  assert.deepEqual(await sessionCookies(), []);
});

test('log out everywhere ends the session in every browser', async () => {
  const other = await launch();
  try {
    const otherPage = other.pages()[0] ?? (await other.newPage());
    await logIn(page, 'carol');
    await logIn(otherPage, 'carol');
    await otherPage.reload();
    assert.equal(await text('#user', otherPage), 'carol');

    await Promise.all([page.waitForURL(`${APP_URL}/`), page.click('#logout-everywhere')]);
    assert.equal(await flash(), 'You have been logged out everywhere.');
    assert.match(await text('#who'), /Not logged in/);

    // The other browser still holds its cookie, but it is refused.
    assert.equal((await sessionCookies(other)).length, 1);
    await otherPage.reload();
    assert.match(await text('#who', otherPage), /Not logged in/);
    await otherPage.reload();
    assert.match(await text('#who', otherPage), /Not logged in/);
  } finally {
    await other.close();
  }
});

test('a session that is only read is refreshed after refresh_after', async () => {
  await logIn(page, 'dave');
  await page.reload();
  const first = await sessionCookie();
  const issued = await unixAt('#issued-at');
  const refreshAt = await unixAt('#refresh-at');
  assert.equal(refreshAt - issued, REFRESH_AFTER);
  assert.ok(REFRESH_AFTER <= 30, `run the app with a short refresh_after, not ${REFRESH_AFTER} s`);

  // Before refresh_after: reading changes nothing.
  if (Date.now() / 1000 < refreshAt - 1) {
    await page.reload();
    assert.equal((await sessionCookie()).value, first.value);
  }
  // After it: the same session comes back in a new cookie with a later expiry.
  const wait = (refreshAt + 1.2) * 1000 - Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  await page.reload();
  assert.equal(await text('#user'), 'dave');
  const second = await sessionCookie();
  assert.notEqual(second.value, first.value);
  assert.ok(second.expires > first.expires, `${second.expires} > ${first.expires}`);
  await page.reload();
  assert.ok((await unixAt('#issued-at')) > issued);
  assert.equal((await sessionCookie()).value, second.value);
});
