'use strict';

// Shared helpers for the npm-client compatibility suites. Not a test file itself.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');

function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`compat/npm: environment variable ${name} is required (see README.md)`);
  }
  return v;
}

// BILLKEY_URL without trailing slash: the old `iamport` client joins host + path with '/',
// and the TS client builds `${baseUrl}/users/getToken` by hand.
const BILLKEY_URL = (process.env.BILLKEY_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const IMP_KEY = requireEnv('IMP_KEY');
const IMP_SECRET = requireEnv('IMP_SECRET');

// Sandbox test cards (the repository README).
const CARD_OK = '4242-4242-4242-4242';
const CARD_DECLINE_LATER = '4000-0000-0000-0341'; // key issues fine, every later charge declines
const CARD_INFO = { expiry: '2030-12', birth: '800101', pwd_2digit: '12' };

// Messages the real API is observed to return (reference/iamport-v1.md §4.3, §6.1).
// Assertions only check that the message CONTAINS these fragments.
const MSG = {
  unknownCustomer: '등록되지 않은 구매자입니다',
  alreadyPaid: '이미 주문이 이루어진 건입니다',
  nothingToCancel: '취소할 결제건이 존재하지 않습니다',
};

// Unique ids so the suites can run repeatedly against the same server.
// merchant_uid must stay <= 40 chars, customer_uid <= 80; only [A-Za-z0-9_] because the old
// `iamport` client puts path params into the URL without encoding them.
function uid(prefix) {
  return `${prefix}_${Date.now().toString(36)}_${crypto.randomBytes(5).toString('hex')}`;
}

function nowSec() {
  return Math.floor(Date.now() / 1000);
}

// The TS client converts unix-second fields to Date objects (and leaves an exact 0 as 0).
function toSec(v) {
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  return v;
}

function assertPositiveTime(v, field) {
  const s = toSec(v);
  assert.equal(typeof s, 'number', `${field} should be a unix timestamp, got ${JSON.stringify(v)}`);
  assert.ok(s > 0, `${field} should be > 0, got ${JSON.stringify(v)}`);
}

function digitsOf(card) {
  return card.replace(/\D/g, '');
}

// "No full card number anywhere in the JSON": neither the dashed nor the bare 16 digits.
function assertNoFullPan(json, card) {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  assert.ok(!text.includes(card), `response contains the full card number ${card}: ${text}`);
  assert.ok(!text.includes(digitsOf(card)), `response contains the full card number ${digitsOf(card)}: ${text}`);
}

function assertMaskedCard(masked, card) {
  assert.equal(typeof masked, 'string', `card_number should be a masked string, got ${JSON.stringify(masked)}`);
  assert.ok(masked.includes('*'), `card_number should be masked with '*', got ${masked}`);
  assert.notEqual(digitsOf(masked), digitsOf(card));
}

// Asserts a Payment object from `again` that was approved.
function assertPaidAgain(p, { customer_uid, merchant_uid, amount }) {
  assert.equal(p.status, 'paid', `status should be paid: ${JSON.stringify(p)}`);
  assert.equal(p.amount, amount);
  assert.equal(p.merchant_uid, merchant_uid);
  assert.equal(p.customer_uid, customer_uid);
  assert.equal(p.customer_uid_usage, 'payment');
  assert.equal(p.channel, 'api');
  assert.equal(p.pay_method, 'card');
  assert.equal(p.cancel_amount, 0);
  assert.equal(typeof p.imp_uid, 'string');
  assert.ok(p.imp_uid.length > 0, 'imp_uid should be set');
  assertPositiveTime(p.paid_at, 'paid_at');
}

function assertFailedPayment(p, { merchant_uid }) {
  assert.equal(p.status, 'failed', `status should be failed: ${JSON.stringify(p)}`);
  assert.equal(p.merchant_uid, merchant_uid);
  assert.equal(typeof p.fail_reason, 'string');
  assert.ok(p.fail_reason.length > 0, 'fail_reason should be non-empty');
  assertPositiveTime(p.failed_at, 'failed_at');
  assert.equal(toSec(p.paid_at), 0, 'paid_at should be 0 on a declined payment');
  assert.equal(typeof p.imp_uid, 'string');
  assert.ok(p.imp_uid.length > 0, 'a declined attempt is still a payment record with an imp_uid');
}

// A business failure as the reference describes it: HTTP 200, code != 0, a message.
function assertBusinessError({ httpStatus, code, message }, fragment) {
  assert.equal(httpStatus, 200, `expected HTTP 200 with code != 0, got HTTP ${httpStatus} (code ${code}, ${message})`);
  assert.equal(typeof code, 'number');
  assert.notEqual(code, 0);
  if (fragment) {
    assert.equal(typeof message, 'string');
    assert.ok(message.includes(fragment), `message should contain "${fragment}", got "${message}"`);
  }
}

// Walk a paged list ({total, previous, next, list}) until `pred` matches.
// `fetchPage(page)` must return the paged object.
async function findInPages(fetchPage, pred, maxPages = 50) {
  let page = 1;
  for (let i = 0; i < maxPages; i++) {
    const paged = await fetchPage(page);
    assert.ok(paged && Array.isArray(paged.list), `expected a paged list, got ${JSON.stringify(paged)}`);
    const hit = paged.list.find(pred);
    if (hit) return hit;
    if (!paged.next) return undefined;
    page = paged.next;
  }
  return undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = {
  BILLKEY_URL,
  IMP_KEY,
  IMP_SECRET,
  CARD_OK,
  CARD_DECLINE_LATER,
  CARD_INFO,
  MSG,
  uid,
  nowSec,
  toSec,
  sleep,
  assertPositiveTime,
  assertNoFullPan,
  assertMaskedCard,
  assertPaidAgain,
  assertFailedPayment,
  assertBusinessError,
  findInPages,
};
