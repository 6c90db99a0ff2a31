// The public hub in headless Chromium, as a resident uses it: from the home page to an activity
// and its response form (an error, then success), registering interests, confirming with the
// code (a wrong one, then the one waiting in the database) and unsubscribing, a councillor
// stopping the weekly digest from the one-click link of a digest e-mailed to them, keyboard-only
// submission, a questionnaire with every question type answered page by page (an error
// corrected, check your answers, the stored answers read back; and with the keyboard alone), a
// quick poll answered in one click, a published activity's answers as charts beside tables (a
// hostile question shown as text, small counts hidden, no free text), a hostile title shown as
// text, the staff workspace (signing in with an error, an approval refused then given with an
// override, signing out, an admin setting up a second factor), and an axe-core audit of every page
// type with no serious or critical violation. Screenshots of each page are kept as artefacts in
// target/browser-artefacts (never committed).
//
// Run by `cargo xtask ci` (which builds `consult` and passes its path in CONSULT_BIN), or by hand:
//   CONSULT_BIN=target/debug/consult node --test tests/browser/hub.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const BIN = resolve(root, process.env.CONSULT_BIN ?? 'target/debug/consult');
const CHROMIUM = process.env.CONSULT_CHROMIUM ?? '/usr/bin/chromium';
const ARTEFACTS = resolve(root, process.env.CONSULT_ARTEFACTS ?? 'target/browser-artefacts');

// What a script injection would set if it ever ran.
const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> Parks & play';

// Every question type; `uses` shows on a follow-up page when `visit` is yes, `why_not` on the
// next section's page when it is no.
const SURVEY = { sections: [
  { title: 'Your visits', intro: 'About how you use the park.', questions: [
    { key: 'visit', type: 'single_choice', text: 'Do you visit the park?', required: true, other: true,
      options: [{ key: 'yes', label: 'Yes' }, { key: 'no', label: 'No' }] },
    { key: 'uses', type: 'multiple_choice', text: 'What do you use it for?', max_choices: 2, other: true,
      options: [{ key: 'walk', label: 'Walking' }, { key: 'play', label: 'Play' }, { key: 'sport', label: 'Sport' }],
      show_if: { question: 'visit', any_of: ['yes'] } },
    { key: 'often', type: 'scale', text: 'How often do you go?',
      scale: { min: 1, max: 5, min_label: 'Rarely', max_label: 'Every day' } },
  ] },
  { title: 'Your priorities', questions: [
    { key: 'why_not', type: 'free_text', text: 'Why do you not visit?', show_if: { question: 'visit', any_of: ['no'] } },
    { key: 'priorities', type: 'ranking', text: 'Rank these improvements',
      options: [{ key: 'lights', label: 'Lighting' }, { key: 'bins', label: 'Bins' }, { key: 'seats', label: 'Seats' }] },
    { key: 'age', type: 'number', text: 'Your age', min: 16, max: 120, required: true },
    { key: 'last', type: 'date', text: 'When did you last visit?' },
    { key: 'ideas', type: 'free_text', text: 'Any ideas?', max_length: 100 },
    { key: 'agree', type: 'grid', text: 'How far do you agree?', scale: { min: 1, max: 5 },
      statements: [{ key: 'safe', text: 'It feels safe' }, { key: 'clean', text: 'It is clean' }] },
  ] },
] };

// A questionnaire whose results are published (hostile text in a question and an option).
const RESULTS = { sections: [
  { title: 'The library', questions: [
    { key: 'hours', type: 'single_choice', text: HOSTILE, other: true,
      options: [{ key: 'evenings', label: 'Evenings <b>late</b>' }, { key: 'weekends', label: 'Weekends' },
        { key: 'mornings', label: 'Early mornings' }] },
    { key: 'satisfaction', type: 'scale', text: 'How satisfied are you with the library?',
      scale: { min: 1, max: 5, min_label: 'Not at all', max_label: 'Very' } },
    { key: 'improve', type: 'ranking', text: 'Rank these improvements',
      options: [{ key: 'books', label: 'More books' }, { key: 'study', label: 'Study space' }, { key: 'cafe', label: 'A cafe' }] },
    { key: 'ideas', type: 'free_text', text: 'Any other ideas?' },
    { key: 'agree', type: 'grid', text: 'How far do you agree?', scale: { min: 1, max: 5 },
      statements: [{ key: 'welcoming', text: 'It is welcoming' }, { key: 'quiet', text: 'It is quiet enough' }] },
  ] },
] };

let dir;
let server;
let base;
let browser;
let env;
let hostileId;
let surveyId;
let pollId;
let answersId;
let officer;

/** Runs the `consult` binary against the test database and returns what it printed. */
function consult(...args) {
  return execFileSync(BIN, args, { env, encoding: 'utf8' }).trim();
}

/** The verification code waiting in the outbox for the newest pending registration (the
 * server here has no mail channel, so it stays queued; delivering it over SMTP is the e2e
 * tests'). */
function pendingCode() {
  return execFileSync('sqlite3', [join(dir, 'hub.db'),
    "SELECT json_extract(personalisation, '$.code') FROM outbox WHERE kind = 'verification' AND status = 'queued' ORDER BY created_at DESC LIMIT 1"],
  { encoding: 'utf8' }).trim();
}

function day(offset) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

async function api(method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Starts `consult serve --demo` on a free port and resolves with its address. */
function startServer() {
  return new Promise((ok, fail) => {
    server = spawn(BIN, ['serve', '--demo', '--bind', '127.0.0.1:0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr.on('data', (chunk) => {
      log += chunk;
      // eslint-disable-next-line no-control-regex
      const m = log.replace(/\x1b\[[0-9;]*m/g, '').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) ok(m[1]);
    });
    server.on('exit', (code) => fail(new Error(`consult serve exited with ${code}:\n${log}`)));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consult-browser-'));
  mkdirSync(ARTEFACTS, { recursive: true });
  env = { ...process.env, CONSULT_DATABASE_URL: `sqlite://${join(dir, 'hub.db')}`, NO_COLOR: '1' };
  base = await startServer();
  officer = consult('token', 'create', '--role', 'officer', '--organisation', 'tamworth', '--name', 'Browser officer');
  const coordinator = consult('token', 'create', '--role', 'coordinator', '--name', 'Browser coordinator');
  const created = await api('POST', '/api/v1/consultations', officer, {
    organisation: 'tamworth',
    title: HOSTILE,
    summary: 'Tell us about <b>parks</b>',
    purpose: "To hear residents' views",
    decision: 'Cabinet decision',
    decision_date: day(60),
    can_change: ['Where new play areas go'],
    cannot_change: ['The budget'],
    feedback_due_on: day(90),
    accessible_formats: 'Paper copies and large print on request',
    level: 'consult',
    methods: ['online_survey'],
    audience: { groups: ['residents'], areas: ['E07000199'], equality_groups: [] },
    topics: ['parks'],
    opens_on: day(-2),
    closes_on: day(10),
  });
  hostileId = created.id;
  const path = `/api/v1/consultations/${hostileId}/transitions`;
  await api('POST', path, officer, { to: 'submitted' });
  await api('POST', path, coordinator, { to: 'approved', override: 'Browser test fixture' });
  // A questionnaire with every question type (set while a draft, then approved: it opens at
  // once), and a quick poll.
  const draft = async (title, questionnaire) => {
    const made = await api('POST', '/api/v1/consultations', officer, {
      organisation: 'tamworth', title, summary: `About ${title}`, purpose: "To hear residents' views",
      decision: 'Cabinet decision', decision_date: day(60), can_change: ['Where new play areas go'],
      cannot_change: ['The budget'], feedback_due_on: day(90), accessible_formats: 'Paper copies on request',
      level: 'consult', methods: ['online_survey'],
      audience: { groups: ['residents'], areas: ['E07000199'], equality_groups: [] },
      topics: ['parks'], opens_on: day(-2), closes_on: day(10),
    });
    await api('PUT', `/api/v1/consultations/${made.id}/questionnaire`, officer, questionnaire);
    const path = `/api/v1/consultations/${made.id}/transitions`;
    await api('POST', path, officer, { to: 'submitted' });
    await api('POST', path, coordinator, { to: 'approved', override: 'Browser test fixture' });
    return made.id;
  };
  surveyId = await draft('Park survey', SURVEY);
  pollId = await draft('Bin colour poll', { sections: [{ title: 'Poll', questions: [
    { key: 'colour', type: 'single_choice', text: 'Which colour for the new bins?', required: true,
      options: [{ key: 'green', label: 'Green' }, { key: 'blue', label: 'Blue' }] }] }] });
  // An activity whose results are published: paper answers keyed while open, closed early by a
  // coordinator, then the feedback published, so what people answered is public (small counts
  // hidden).
  answersId = await draft('Library opening survey', RESULTS);
  for (let i = 0; i < 24; i++) {
    await api('POST', `/api/v1/consultations/${answersId}/responses`, officer, {
      channel: 'paper',
      answers: {
        hours: i % 3 === 0 ? 'evenings' : 'weekends',
        satisfaction: [4, 5, 3][i % 3],
        improve: i % 2 === 0 ? ['books', 'study', 'cafe'] : ['study', 'books', 'cafe'],
        ideas: `Secret idea number ${i}`,
        agree: { welcoming: 4 + (i % 2), quiet: 3 },
      },
    });
  }
  await api('POST', `/api/v1/consultations/${answersId}/transitions`, coordinator,
    { to: 'closed', reason: 'Enough responses for the decision' });
  await api('PUT', `/api/v1/consultations/${answersId}/feedback`, coordinator, {
    items: [{ theme: 'Opening hours', you_said: 'Open at weekends', we_did: 'Opened on Sundays' }], publish: true,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function shot(page, name) {
  await page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });
}

test('from the home page to an activity, a hostile title is only text; respond with an error, then successfully', async () => {
  const page = await browser.newPage();
  await page.goto(base);
  await shot(page, 'home');
  await page.getByRole('link', { name: /Parks & play/ }).first().click();
  await page.waitForURL(`**/activities/${hostileId}`);
  assert.equal(await page.locator('h1').textContent(), HOSTILE);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no injected script ran');
  assert.equal(await page.locator('main img').count(), 0, 'no injected element');
  await shot(page, 'activity');

  await page.getByRole('link', { name: 'Respond online' }).click();
  await page.getByRole('button', { name: 'Send response' }).click();
  assert.match(await page.title(), /^Error:/);
  const summary = page.locator('.error-summary');
  assert.match(await summary.textContent(), /Enter your comments/);
  await shot(page, 'respond-error');
  await summary.getByRole('link').first().click();
  assert.match(page.url(), /#comments$/);
  await page.getByLabel('Your comments').fill('More benches near the play area, please.');
  // The first monitoring question (the area question comes before them).
  await page.locator('fieldset').filter({ has: page.locator('input[name^="m."]') }).first()
    .getByLabel('Prefer not to say').check();
  await page.getByRole('button', { name: 'Send response' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Response received');
  await shot(page, 'respond-done');
  await page.close();
});

test('register interests with an error, then see, unsubscribe and delete the registration', async () => {
  const page = await browser.newPage();
  await page.goto(base);
  await page.getByRole('link', { name: 'Get invited' }).click();
  await page.getByRole('button', { name: 'Register' }).click();
  assert.match(await page.title(), /^Error:/);
  assert.ok(await page.locator('.error-summary').isVisible());
  await shot(page, 'interests-error');
  await page.getByLabel('Email address').fill('resident@example.org');
  await page.getByLabel('Topics you are interested in').fill('parks, libraries');
  await page.getByRole('group', { name: 'How should we contact you?' }).getByRole('checkbox').first().check();
  await page.getByLabel(/I agree to be contacted/).check();
  await page.getByRole('button', { name: 'Register' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Check your contact details to finish registering');
  assert.match(await page.locator('main').textContent(), /We have sent a code to your email address/);
  const reference = await page.locator('#reference').textContent();
  const key = await page.locator('#key').textContent();
  await shot(page, 'registered-pending');

  // A wrong code is shown beside the field; the one waiting in the store confirms.
  await page.getByLabel('Code').fill('WRONG-CODE');
  await page.getByRole('button', { name: 'Confirm' }).click();
  assert.match(await page.title(), /^Error:/);
  assert.match(await page.locator('#code-error').textContent(), /is not a code we sent/);
  await shot(page, 'verify-error');
  await page.getByLabel('Code').fill(pendingCode());
  await page.getByRole('button', { name: 'Confirm' }).click();
  assert.equal(await page.locator('h1').textContent(), 'You are registered');
  assert.match(await page.locator('main').textContent(), new RegExp(reference));
  await shot(page, 'registered');

  await page.goto(`${base}/my-registration`);
  await page.getByLabel('Reference').fill(reference);
  await page.getByLabel('Key').fill(key);
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await page.locator('h1').textContent(), 'What we hold about you');
  assert.match(await page.locator('main').textContent(), /resident@example\.org/);
  await page.getByRole('button', { name: 'Stop all invitations' }).click();
  assert.match(await page.locator('main').textContent(), /You will not be invited any more/);
  await shot(page, 'unsubscribed');
  await page.getByRole('button', { name: 'Delete my registration' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Registration deleted');
  await page.close();
});

/** The serious and critical axe-core violations of the page (whose context bypasses the CSP). */
async function seriousViolations(page) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) ${v.help}: ${v.nodes.join(', ')}`);
}

test('a councillor stops the weekly digest from the link in a digest e-mailed to them; axe on each page', async () => {
  // A server of its own on a database of its own, so that delivering its outbox sends nothing
  // the other tests wait for.
  const own = { ...env, CONSULT_DATABASE_URL: `sqlite://${join(dir, 'staff-unsubscribe.db')}` };
  const run = (...args) => execFileSync(BIN, args, { env: own, encoding: 'utf8' }).trim();
  const mailDir = mkdtempSync(join(dir, 'mail-'));
  const smtpPort = await freePort();
  const sink = spawn('python3', [resolve(root, 'tests/support/smtp_sink.py'), mailDir, String(smtpPort)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const site = spawn(BIN, ['serve', '--demo', '--bind', '127.0.0.1:0'], { env: own, stdio: ['ignore', 'ignore', 'pipe'] });
  const context = await browser.newContext({ bypassCSP: true });
  try {
    await waitFor(sink, 'stdout', /ready/);
    const [, siteBase] = await waitFor(site, 'stderr', /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const call = async (method, path, token, body) => {
      const res = await fetch(`${siteBase}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const json = await res.json();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    // A councillor for Tamworth, and an activity there opening in three days' time.
    const email = 'cllr.dee@tamworth.gov.uk';
    const councillor = JSON.parse(run('user', 'add', '--email', email, '--name', 'Cllr Dee', '--role', 'councillor',
      '--ward', 'E07000199'));
    assert.deepEqual(councillor.stopped_messages, []);
    const officerToken = run('token', 'create', '--role', 'officer', '--organisation', 'tamworth', '--name', 'Digest officer');
    const coordinatorToken = run('token', 'create', '--role', 'coordinator', '--name', 'Digest coordinator');
    const made = await call('POST', '/api/v1/consultations', officerToken, {
      organisation: 'tamworth', title: 'Swimming pool timetable', summary: 'When the pool opens', purpose: "To hear residents' views",
      decision: 'Cabinet decision', decision_date: day(60), can_change: ['The timetable'], cannot_change: ['The budget'],
      feedback_due_on: day(90), accessible_formats: 'Paper copies on request', level: 'consult', methods: ['online_survey'],
      audience: { groups: ['residents'], areas: ['E07000199'], equality_groups: [] },
      topics: ['leisure'], opens_on: day(3), closes_on: day(30),
    });
    const transitions = `/api/v1/consultations/${made.id}/transitions`;
    await call('POST', transitions, officerToken, { to: 'submitted' });
    await call('POST', transitions, coordinatorToken, { to: 'approved', override: 'Browser test fixture' });

    // The digest of the week it opens in, queued and sent to the SMTP server.
    const queued = JSON.parse(run('outbox', 'briefings', '--on', day(3)));
    assert.ok(queued.digests >= 1, JSON.stringify(queued));
    run('deliver', '--once', '--smtp-url', `smtp://127.0.0.1:${smtpPort}`, '--public-url', siteBase);
    const mails = readdirSync(mailDir).filter((f) => f.endsWith('.eml'))
      .map((f) => readFileSync(join(mailDir, f), 'utf8'))
      .filter((m) => m.startsWith(`X-Envelope-To: ${email}\r\n`));
    assert.equal(mails.length, 1, `one digest for ${email}`);
    // The header block, unfolded (RFC 5322).
    const headers = mails[0].split('\r\n\r\n')[0].replace(/\r\n(?=[ \t])/g, '');
    const header = (name) => headers.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi'))?.[1].trim();
    assert.match(header('Subject'), /^Activities in your wards/);
    assert.equal(header('List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    const link = header('List-Unsubscribe')?.replace(/^<|>$/g, '');
    assert.match(link, new RegExp(`^${siteBase}/unsubscribe/staff/${councillor.id}/digest/[0-9a-f]+$`));

    // Opening the link shows a page with one button, and changes nothing.
    const page = await context.newPage();
    const failures = [];
    const audit = async (name) => {
      failures.push(...(await seriousViolations(page)).map((v) => `${name}: ${v}`));
      await shot(page, name);
    };
    const opened = await page.goto(link);
    assert.equal(opened.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Stop the weekly digest');
    assert.match(await page.locator('main').textContent(), /activities opening, closing and publishing results in your wards/);
    await audit('staff-unsubscribe');
    assert.deepEqual(JSON.parse(run('user', 'show', councillor.id)).stopped_messages, [], 'opening the link stops nothing');

    // The button stops the digest, and only it.
    await page.getByRole('button', { name: 'Stop the weekly digest' }).click();
    await page.waitForLoadState();
    assert.equal(await page.locator('h1').textContent(), 'You will not get the weekly digest again');
    await audit('staff-unsubscribed');
    assert.deepEqual(JSON.parse(run('user', 'show', email)).stopped_messages, ['digest']);

    // A link whose token was altered does not work.
    const forged = link.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    const refused = await page.goto(forged);
    assert.equal(refused.status(), 404);
    assert.equal(await page.locator('h1').textContent(), 'This link does not work');
    await audit('staff-unsubscribe-unknown');
    assert.deepEqual(failures, [], failures.join('\n'));
  } finally {
    await context.close();
    site.kill('SIGTERM');
    sink.stdin.end();
  }
});

test('a response can be written and sent with the keyboard alone', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/activities/${hostileId}/respond`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to main content');
  await page.keyboard.press('Enter');
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return `${e.tagName.toLowerCase()}#${e.id}${e.type === 'submit' ? ':submit' : ''}`;
  });
  for (let i = 0; i < 40 && (await focused()) !== 'textarea#comments'; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(), 'textarea#comments', 'the comments field is reached by Tab');
  await page.keyboard.type('Sent with the keyboard alone.');
  for (let i = 0; i < 80 && !(await focused()).endsWith(':submit'); i++) await page.keyboard.press('Tab');
  assert.ok((await focused()).endsWith(':submit'), 'the button is reached by Tab');
  await page.keyboard.press('Enter');
  await page.waitForLoadState();
  assert.equal(await page.locator('h1').textContent(), 'Response received');
  await page.close();
});

/** Answers the survey's pages in a browser: `audit`, if given, is called on each page state. */
async function answerSurvey(page, audit = async () => {}) {
  await page.goto(`${base}/activities/${surveyId}`);
  await page.getByRole('link', { name: 'Respond online' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Your visits');
  await audit('survey-page-1');
  // An error: the summary links to the question, the page title says so.
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.match(await page.title(), /^Error:/);
  assert.match(await page.locator('.error-summary').textContent(), /answer this question/);
  await audit('survey-error');
  await page.locator('.error-summary').getByRole('link').first().click();
  assert.match(page.url(), /#q-visit$/);
  await page.getByRole('group', { name: /Do you visit the park/ }).getByLabel('Yes').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  // The follow-up page, shown because of the answer.
  assert.equal(await page.locator('h1').textContent(), 'Your visits');
  await audit('survey-page-2');
  const uses = page.getByRole('group', { name: 'What do you use it for?' });
  await uses.getByLabel('Walking').check();
  await uses.getByLabel('Other', { exact: true }).check();
  await uses.getByLabel('If other, please specify').fill('Picnics');
  await page.getByRole('group', { name: 'How often do you go?' }).getByLabel('4').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Your priorities');
  assert.equal(await page.getByText('Why do you not visit?').count(), 0, 'skipped by the server');
  await audit('survey-page-3');
  await page.getByLabel('Bins').selectOption('1');
  await page.getByLabel('Lighting').selectOption('2');
  await page.getByLabel('Seats').selectOption('3');
  await page.getByLabel(/^Your age/).fill('42');
  await page.getByLabel('Day').fill('1');
  await page.getByLabel('Month').fill('5');
  await page.getByLabel('Year').fill('2026');
  await page.getByLabel('Any ideas?').fill('More benches & shade');
  await page.getByRole('group', { name: 'It feels safe' }).getByLabel('5').check();
  await page.getByRole('group', { name: 'It is clean' }).getByLabel('3').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  // The comments and monitoring page.
  await page.getByLabel('Your comments').fill('Keep it green');
  await audit('survey-about');
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Check your answers before sending your response');
  const main = await page.locator('main').textContent();
  for (const shown of ['Other: Picnics', '1. Bins', '1 May 2026', 'It feels safe: 5', 'More benches & shade', 'Keep it green']) {
    assert.ok(main.includes(shown), `${shown} in ${main}`);
  }
  await audit('survey-check');
}

test('a questionnaire with every question type, an error corrected, checked and sent', async () => {
  const page = await browser.newPage();
  await answerSurvey(page, async (name) => shot(page, name));
  await page.getByRole('button', { name: 'Send response' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Response received');
  const reference = await page.locator('strong').textContent();
  const stored = await api('GET', `/api/v1/consultations/${surveyId}/responses/${reference}`, officer);
  assert.deepEqual({ ...stored.answers, age: undefined }, {
    visit: 'yes', uses: ['walk', { option: 'other', text: 'Picnics' }], often: 4,
    priorities: ['bins', 'lights', 'seats'], last: '2026-05-01', ideas: 'More benches & shade',
    agree: { safe: 5, clean: 3 }, age: undefined,
  });
  assert.equal(stored.answers.age, 42);
  assert.equal(stored.comments, 'Keep it green');
  await page.close();
});

test('a questionnaire can be answered with the keyboard alone', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/activities/${surveyId}/respond`);
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return `${e.tagName.toLowerCase()}#${e.id}${e.type === 'submit' ? `:submit:${e.textContent}` : ''}`;
  });
  // Enter on a button sends its form: wait for the page it leads to.
  const enter = () => Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const tabTo = async (target) => {
    for (let i = 0; i < 80 && !(await focused()).startsWith(target); i++) await page.keyboard.press('Tab');
    assert.ok((await focused()).startsWith(target), `${target} reached by Tab (at ${await focused()})`);
  };
  // "No" with the arrow keys: the follow-up page is skipped, the question for "no" asked.
  await tabTo('input#q-visit');
  await page.keyboard.press('ArrowDown');
  await tabTo('button#:submit:Continue');
  await enter();
  assert.equal(await page.locator('h1').textContent(), 'Your visits', 'the scale is on the follow-up page');
  await tabTo('button#:submit:Continue');
  await enter();
  assert.equal(await page.locator('h1').textContent(), 'Your priorities');
  await tabTo('textarea#q-why_not');
  await page.keyboard.type('Too far away');
  await tabTo('input#q-age');
  await page.keyboard.type('67');
  await tabTo('button#:submit:Continue');
  await enter();
  await tabTo('button#:submit:Continue');
  await enter();
  assert.equal(await page.locator('h1').textContent(), 'Check your answers before sending your response');
  await tabTo('button#:submit:Send response');
  await enter();
  assert.equal(await page.locator('h1').textContent(), 'Response received');
  const stored = await api('GET', `/api/v1/consultations/${surveyId}/responses/${await page.locator('strong').textContent()}`, officer);
  assert.deepEqual(stored.answers, { visit: 'no', why_not: 'Too far away', age: 67 });
  await page.close();
});

test('a quick poll is answered in one click on the activity page', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/activities/${pollId}`);
  assert.equal(await page.getByRole('link', { name: 'Respond online' }).count(), 0);
  await shot(page, 'poll');
  await page.getByRole('group', { name: /Which colour for the new bins/ }).getByRole('button', { name: 'Blue' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Response received');
  const list = await api('GET', `/api/v1/consultations/${pollId}/responses`, officer);
  assert.deepEqual(list.items.map((r) => r.answers), [{ colour: 'blue' }]);
  await page.close();
});

test('once results are published, what people answered is shown as charts beside tables', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/activities/${answersId}`);
  await page.getByRole('link', { name: 'See what people answered to each question' }).click();
  assert.equal(await page.locator('h1').textContent(), 'What people answered: Library opening survey');
  // Each closed question: a chart named as an image, described by its figures, and a table.
  const charts = page.getByRole('img', { name: /of the answers to:/ });
  assert.equal(await charts.count(), 4);
  const hours = page.getByRole('img', { name: /Bar chart of the answers to: <script>/ });
  assert.match(await hours.getAttribute('aria-labelledby'), /^chart-hours-t chart-hours-d$/);
  // Nobody chose early mornings: the chart's description and the table say the same figure,
  // and on the page a hidden count reads "fewer than 5", never 0.
  const said = (await page.locator('#chart-hours-d').textContent()).match(/Early mornings: ([^;(]+)/)[1].trim();
  const table = page.getByRole('table', { name: /Answers to: <script>/ });
  assert.equal(await table.getByRole('row', { name: /Early mornings/ }).getByRole('cell').first().textContent(), said);
  assert.match(await page.locator('main').textContent(), /fewer than 5/);
  assert.ok(await table.getByRole('rowheader', { name: 'Evenings <b>late</b>' }).isVisible(), 'a label is text');
  // Free text: counted, never shown.
  const text = await page.locator('main').textContent();
  assert.ok(!text.includes('Secret idea'), 'free text is never public');
  assert.match(text, /never published one by one/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await shot(page, 'answers');
  await page.close();
});

test('every page type passes an axe-core audit with no serious or critical violation', async () => {
  // axe is injected into the page, which the hub's CSP (no script at all) would refuse.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const published = await (await fetch(`${base}/api/v1/library`)).json();
  assert.ok(published.items.length > 0, 'the demo data has published results');
  const results = published.items[0].consultation.id;
  const pages = [
    ['home', '/'],
    ['register', '/register?q=budget'],
    ['register-error', '/register?area=nowhere'],
    ['forward-plan', '/forward-plan'],
    ['activity-open', `/activities/${hostileId}`],
    ['activity-results', `/activities/${results}`],
    ['activity-answered', `/activities/${answersId}`],
    ['answers', `/activities/${answersId}/results`],
    ['answers-by', `/activities/${answersId}/results?by=sex`],
    ['answers-error', `/activities/${answersId}/results?by=star_sign`],
    ['respond', `/activities/${hostileId}/respond`],
    ['remark', `/activities/${hostileId}/remark`],
    ['results', '/results'],
    ['results-error', '/results?year=last'],
    ['annual-review', `/annual-review`],
    ['interests', '/register-interests'],
    ['my-registration', '/my-registration'],
    ['verify', '/verify-registration?code=7KD29XQ4M3HP'],
    ['not-found', '/activities/nothing-here'],
  ];
  // Pages reached by posting a form: errors beside fields, and a confirmation.
  const posted = [
    ['respond-error', `/activities/${hostileId}/respond`, 'Send response'],
    ['remark-error', `/activities/${hostileId}/remark`, 'Send'],
    ['interests-error', '/register-interests', 'Register'],
    ['my-registration-error', '/my-registration', 'Continue'],
    ['verify-error', '/verify-registration', 'Confirm'],
  ];
  const failures = [];
  const violations = async () => {
    await page.addScriptTag({ path: AXE });
    return page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
  };
  const audit = async (name) => {
    for (const v of (await violations()).filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      failures.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.join(', ')}`);
    }
    await shot(page, `audit-${name}`);
  };
  // The audit finds what it should: an image without text and an unlabelled field.
  await page.setContent('<!DOCTYPE html><html lang="en"><title>t</title><main><img src="x.png"><input></main></html>');
  const broken = (await violations()).map((v) => v.id);
  assert.ok(broken.includes('image-alt') && broken.includes('label'), broken.join(', '));
  for (const [name, path] of pages) {
    await page.goto(`${base}${path}`);
    await audit(name);
  }
  for (const [name, path, button] of posted) {
    await page.goto(`${base}${path}`);
    await page.getByRole('button', { name: button, exact: true }).click();
    await page.waitForLoadState();
    assert.match(await page.title(), /^Error:/, name);
    await audit(name);
  }
  // The questionnaire's pages (each section page, an error, the comments page, check your
  // answers) and a quick poll on its activity's page.
  await answerSurvey(page, audit);
  await page.goto(`${base}/activities/${pollId}`);
  await audit('poll');
  // A confirmation page (the message template).
  await page.goto(`${base}/activities/${hostileId}/remark`);
  await page.getByLabel('A compliment').check();
  await page.getByLabel('What happened').fill('Clear information and plenty of time.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  assert.equal(await page.locator('h1').textContent(), 'Received');
  await audit('message');
  await context.close();
  assert.deepEqual(failures, [], failures.join('\n'));
});

/** The TOTP code (RFC 6238: HMAC-SHA-1, 30 s, 6 digits) of a base32 secret at `ms`. */
function totp(secret, ms = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('the staff workspace: sign in (an error, then right), home, an activity approved with an override, an admin\'s second factor; axe on every page', async () => {
  const password = 'a long sentence nobody guesses';
  const addStaff = (email, name, role, ...more) => {
    consult('user', 'add', '--email', email, '--name', name, '--role', role, ...more);
    execFileSync(BIN, ['user', 'password', email], { env, input: `${password}\n` });
  };
  addStaff('olu@tamworth.gov.uk', 'Olu Officer', 'officer', '--organisation', 'tamworth');
  addStaff('cora@partnership.gov.uk', 'Cora Coordinator', 'coordinator');
  addStaff('ada@partnership.gov.uk', 'Ada Admin', 'admin');
  // A submitted activity of Tamworth's whose consultation is shorter than twelve weeks (a
  // blocking check fails, so approving it needs an override).
  const made = await api('POST', '/api/v1/consultations', officer, {
    organisation: 'tamworth', title: 'Staff workspace trial', summary: 'About the trial', purpose: 'To try the workspace',
    decision: 'Cabinet decision', decision_date: day(60), can_change: ['The route'], cannot_change: ['The budget'],
    feedback_due_on: day(90), accessible_formats: 'Paper copies on request', level: 'consult', methods: ['online_survey'],
    audience: { groups: ['residents'], areas: ['E07000199'], equality_groups: [] }, topics: ['parks'],
    opens_on: day(20), closes_on: day(30),
  });
  await api('POST', `/api/v1/consultations/${made.id}/transitions`, officer, { to: 'submitted' });

  const failures = [];
  const audit = async (page, name) => {
    await page.addScriptTag({ path: AXE });
    const found = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
    for (const v of found.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      failures.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.join(', ')}`);
    }
    await shot(page, `staff-${name}`);
  };
  const signIn = async (page, email) => {
    await page.goto(`${base}/staff`);
    assert.match(page.url(), /\/staff\/sign-in$/, 'the workspace sends a stranger to sign in');
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
  };

  // The officer: a wrong password first (the error beside the field, linked from the summary).
  const officerPage = await (await browser.newContext({ bypassCSP: true })).newPage();
  await officerPage.goto(`${base}/staff/sign-in`);
  await audit(officerPage, 'sign-in');
  await officerPage.getByLabel('E-mail address').fill('olu@tamworth.gov.uk');
  await officerPage.getByLabel('Password').fill('not the password');
  await officerPage.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await officerPage.title(), /^Error:/);
  assert.match(await officerPage.locator('.error-summary').textContent(), /not right/);
  await audit(officerPage, 'sign-in-error');
  await signIn(officerPage, 'olu@tamworth.gov.uk');
  assert.match(officerPage.url(), /\/staff$/);
  assert.match(await officerPage.locator('main').textContent(), /Signed in as Olu Officer/);
  assert.match(await officerPage.locator('#status-submitted + table').textContent(), /Staff workspace trial/);
  await audit(officerPage, 'home-officer');
  await officerPage.goto(`${base}/staff/activities/${made.id}`);
  const officerView = await officerPage.locator('main').textContent();
  assert.match(officerView, /Only the partnership's coordinator or .*'s coordinator can approve this activity/);
  await audit(officerPage, 'activity-officer');
  await officerPage.goto(`${base}/staff/activities`);
  await audit(officerPage, 'activities');
  // The cookie cannot be read by script.
  assert.equal(await officerPage.evaluate(() => document.cookie.includes('consult_session')), false);

  // The coordinator: approval refused while a check fails, then given with an override.
  const coordPage = await (await browser.newContext({ bypassCSP: true })).newPage();
  await signIn(coordPage, 'cora@partnership.gov.uk');
  assert.match(await coordPage.locator('#waiting + table').textContent(), /Staff workspace trial/);
  await audit(coordPage, 'home-coordinator');
  await coordPage.goto(`${base}/staff/activities/${made.id}`);
  const approve = coordPage.locator('form', { has: coordPage.locator('input[name="to"][value="approved"]') });
  await approve.getByRole('button', { name: 'Approve' }).click();
  await coordPage.waitForLoadState();
  assert.match(await coordPage.title(), /^Error:/);
  assert.match(await coordPage.locator('.error-summary').textContent(), /blocking check/);
  await audit(coordPage, 'activity-error');
  await coordPage.locator('form', { has: coordPage.locator('input[name="to"][value="approved"]') })
    .getByLabel(/Override justification/).fill('Statutory deadline agreed by the board');
  await coordPage.locator('form', { has: coordPage.locator('input[name="to"][value="approved"]') })
    .getByRole('button', { name: 'Approve' }).click();
  await coordPage.waitForLoadState();
  assert.match(await coordPage.locator('.panel').textContent(), /now approved/);
  assert.match(await coordPage.locator('table').last().textContent(), /Override: Statutory deadline/);
  await audit(coordPage, 'activity-approved');
  // Its invitations: the plan as counts, then sent.
  await coordPage.getByRole('link', { name: 'Invitations' }).click();
  await coordPage.waitForLoadState();
  assert.match(await coordPage.locator('main').textContent(), /would be invited now/);
  await audit(coordPage, 'invitations');
  await coordPage.getByRole('button', { name: 'Send the invitations' }).click();
  await coordPage.waitForLoadState();
  assert.match(await coordPage.locator('.panel').textContent(), /invitations queued/);
  await audit(coordPage, 'invitations-sent');
  // Signing out: the workspace asks to sign in again.
  await coordPage.getByRole('button', { name: 'Sign out' }).click();
  await coordPage.waitForLoadState();
  assert.match(await coordPage.locator('main').textContent(), /You have signed out/);
  await coordPage.goto(`${base}/staff`);
  assert.match(coordPage.url(), /\/staff\/sign-in$/);

  // The admin sets up a second factor (a wrong code first), with the keyboard alone.
  const adminPage = await (await browser.newContext({ bypassCSP: true })).newPage();
  await signIn(adminPage, 'ada@partnership.gov.uk');
  assert.match(adminPage.url(), /\/staff\/enrol$/);
  await audit(adminPage, 'enrol');
  const secret = (await adminPage.locator('.secret code').textContent()).trim();
  await adminPage.getByLabel('Code').fill('000000');
  await Promise.all([adminPage.waitForNavigation(), adminPage.keyboard.press('Enter')]);
  assert.match(await adminPage.title(), /^Error:/);
  await audit(adminPage, 'enrol-error');
  await adminPage.getByLabel('Code').fill(totp(secret));
  await adminPage.keyboard.press('Enter');
  await adminPage.waitForURL(`${base}/staff`);
  await audit(adminPage, 'home-admin');
  await adminPage.getByRole('link', { name: 'Accounts' }).click();
  assert.match(await adminPage.locator('table').textContent(), /Olu Officer/);
  await audit(adminPage, 'accounts');
  await adminPage.getByRole('button', { name: 'Add the account' }).click();
  await adminPage.waitForLoadState();
  assert.match(await adminPage.title(), /^Error:/);
  await audit(adminPage, 'accounts-error');
  assert.deepEqual(failures, [], failures.join('\n'));
});

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

/** Waits for a child process to print `pattern` on `stream`; resolves with the match. */
function waitFor(child, stream, pattern) {
  return new Promise((ok, fail) => {
    let seen = '';
    child[stream].on('data', (chunk) => {
      // eslint-disable-next-line no-control-regex
      seen += String(chunk).replace(/\x1b\[[0-9;]*m/g, '');
      const m = seen.match(pattern);
      if (m) ok(m);
    });
    child.on('exit', (code) => fail(new Error(`exited with ${code}:\n${seen}`)));
  });
}

test('an officer signs in to the workspace through the council\'s identity provider (oidc-provider), with Entra ID\'s claims', async () => {
  const [port, idpPort] = [await freePort(), await freePort()];
  const site = `http://127.0.0.1:${port}`;
  const idp = spawn('node', [resolve(root, 'tests/support/oidc_provider.mjs'), String(idpPort), 'consult', 'browser-test-secret',
    `${site}/staff/sign-in/oidc/callback`], {
    env: { ...process.env, OIDC_ACCOUNTS: JSON.stringify({
      'entra-user': { preferred_username: 'Nia.Officer@Tamworth.gov.uk', name: 'Nia Officer', oid: 'a1', tid: 't1' } }) },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let staffServer;
  try {
    await waitFor(idp, 'stdout', /ready/);
    consult('user', 'add', '--email', 'nia.officer@tamworth.gov.uk', '--name', 'Nia Officer', '--role', 'officer',
      '--organisation', 'tamworth');
    staffServer = spawn(BIN, ['serve', '--bind', `127.0.0.1:${port}`, '--public-url', site,
      '--oidc-issuer', `http://127.0.0.1:${idpPort}`], {
      env: { ...env, CONSULT_OIDC_CLIENT_ID: 'consult', CONSULT_OIDC_CLIENT_SECRET: 'browser-test-secret' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await waitFor(staffServer, 'stderr', /listening on/);
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${site}/staff`);
    await page.getByRole('link', { name: 'Sign in with your council account' }).click();
    // The provider's own pages: its login (any password for a known login), then consent.
    await page.locator('input[name="login"]').fill('entra-user');
    await page.locator('input[name="password"]').fill('anything');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${site}/staff`);
    assert.match(await page.locator('main').textContent(), /Signed in as Nia Officer/);
    await shot(page, 'staff-home-oidc');
  } finally {
    staffServer?.kill('SIGTERM');
    idp.kill('SIGTERM');
  }
});

test('an officer drafts an activity in the workspace (an error, then right), answers a checklist question, edits and submits it; axe on each page', async () => {
  const password = 'a long sentence nobody guesses';
  const failures = [];
  const page = await (await browser.newContext({ bypassCSP: true })).newPage();
  const audit = async (name) => {
    await page.addScriptTag({ path: AXE });
    const found = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
    for (const v of found.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      failures.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.join(', ')}`);
    }
    await shot(page, `staff-${name}`);
  };
  await page.goto(`${base}/staff/sign-in`);
  await page.getByLabel('E-mail address').fill('olu@tamworth.gov.uk');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/staff`);
  await page.getByRole('link', { name: 'Register an activity' }).click();
  await audit('activity-new');
  await page.getByLabel('Summary').fill('Should the library open on Sundays?');
  await page.getByLabel('Purpose').fill('To hear what residents want');
  await page.getByLabel('The decision it informs').fill('Cabinet');
  await page.getByLabel('Opens on').fill(day(30));
  await page.getByLabel('Closes on').fill(day(20));
  await page.getByLabel('Consult', { exact: true }).check();
  await page.getByRole('button', { name: 'Save as a draft' }).click();
  await page.waitForLoadState();
  assert.match(await page.title(), /^Error:/);
  await audit('activity-new-error');
  // The summary links to the field; what was typed is still there.
  await page.locator('.error-summary a[href="#title"]').click();
  assert.match(page.url(), /#title$/);
  assert.equal(await page.getByLabel('Summary').inputValue(), 'Should the library open on Sundays?');
  await page.getByLabel('Title').fill('Library Sunday opening');
  await page.getByLabel('Closes on').fill(day(30 + 84));
  await page.getByRole('button', { name: 'Save as a draft' }).click();
  await page.waitForURL(/\/staff\/activities\/[0-9a-f-]+\?done=created$/);
  assert.match(await page.locator('.panel').textContent(), /The draft is registered/);
  await audit('activity-draft');
  // The first question of the checklist, answered yes with evidence.
  const question = page.locator('form[action$="/attestations"]').first();
  await question.getByLabel('Yes', { exact: true }).check();
  await question.getByLabel(/Evidence/).fill('Agreed with the equality officer');
  await question.getByRole('button', { name: 'Record the answer' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('.panel').textContent(), /Your answer is recorded/);
  await page.getByRole('link', { name: 'Edit the draft' }).click();
  await audit('activity-edit');
  await page.getByLabel('Title').fill('Library opening on Sundays');
  await page.getByRole('button', { name: 'Save the draft' }).click();
  await page.waitForURL(/\?done=saved$/);
  assert.equal(await page.locator('h1').textContent(), 'Library opening on Sundays');
  await page.locator('form', { has: page.locator('input[name="to"][value="submitted"]') })
    .getByRole('button', { name: 'Submit for approval' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('.panel').textContent(), /now submitted/);
  // Its questionnaire built in the builder: a question that starts a section.
  await page.getByRole('link', { name: 'The questionnaire' }).click();
  await audit('questionnaire-empty');
  await page.getByLabel("A new section's title").fill('About Sundays');
  await page.getByLabel('Type').selectOption('free_text');
  await page.getByLabel('Key', { exact: true }).fill('why');
  await page.getByLabel('Question', { exact: true }).fill('Why would Sunday opening help you?');
  await page.getByRole('button', { name: 'Add the question' }).click();
  await page.waitForURL(/done=saved/);
  assert.match(await page.locator('main').textContent(), /Why would Sunday opening help you\?/);
  await audit('questionnaire');
  // The responses of a Tamworth activity, read and searched (free text, never monitoring).
  await page.goto(`${base}/staff/activities/${answersId}/responses`);
  assert.match(await page.locator('main').textContent(), /Secret idea number/);
  await page.getByLabel(/Search the comments/).fill('number 7');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('li.card').count(), 1);
  await audit('responses');
  // Its published "you said, we did", open to correct.
  await page.goto(`${base}/staff/activities/${answersId}/feedback`);
  assert.equal(await page.getByLabel('Theme', { exact: true }).first().inputValue(), 'Opening hours');
  await audit('feedback');
  // Coding the written answers of the library survey: a theme added, an answer coded.
  await page.goto(`${base}/staff/activities/${answersId}/coding`);
  await page.locator('#theme-key').fill('study');
  await page.locator('#theme-label').fill('Study space');
  await page.getByRole('button', { name: 'Add the theme' }).click();
  await page.waitForURL(/done=theme/);
  const first = page.locator('form.action').first();
  await first.getByLabel('Study space').check();
  await first.getByRole('button', { name: /Save the coding/ }).click();
  await page.waitForURL(/done=coded/);
  assert.match(await page.locator('main').textContent(), /1 of 24 answers coded/);
  await audit('coding');
  // A paper response to the park survey keyed: the required questions missed first.
  await page.goto(`${base}/staff/activities/${surveyId}/responses/new`);
  await audit('keying');
  await page.getByRole('button', { name: 'Save the response' }).click();
  await page.waitForLoadState();
  assert.match(await page.title(), /^Error:/);
  await audit('keying-error');
  await page.locator('#q-visit').check();
  await page.locator('#q-age').fill('30');
  await page.locator('#q-ideas').fill('Keyed from a paper form');
  await page.getByRole('button', { name: 'Save the response' }).click();
  await page.waitForURL(/done=keyed/);
  await page.goto(`${base}/staff/activities/${surveyId}/responses?q=paper+form`);
  assert.match(await page.locator('main').textContent(), /Keyed from a paper form/);
  assert.deepEqual(failures, [], failures.join('\n'));
});
