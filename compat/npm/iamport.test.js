'use strict';

// Drives a running Billkey with the old official client `iamport` (npm 0.3.4,
// iamport/iamport-rest-client-nodejs). It has no host option: the static Iamport.DEFAULT_HOST is
// copied into the instance (and from there into every resource) by the constructor, so it must be
// set BEFORE `new Iamport(...)`, without a trailing slash (URLs are built with [host, ...].join('/')).
//
// How it reacts (lib/resource.js):
//  - resolves with body.response only (the envelope is dropped) when the body parses and code === 0;
//  - rejects Error(body.message) with err.code = `IAMPORT_${code}` when code !== 0 (any HTTP status
//    other than 400/401/404: 200, 207, 500 all go through the body check);
//  - rejects Error('400'|'401'|'404') with err.code = 'HTTP_400'|'HTTP_401'|'HTTP_404' WITHOUT
//    reading the body;
//  - on HTTP_401 it fetches a new token and retries the call once.
//  The published 0.3.4 has no findAll, no multi-imp_uid lookup and no schedule lookups.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const Iamport = require('iamport');
const h = require('./helpers');

Iamport.DEFAULT_HOST = h.BILLKEY_URL;
const iamport = new Iamport({ impKey: h.IMP_KEY, impSecret: h.IMP_SECRET });

async function rejection(promise) {
  try {
    const res = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(res)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof Error, `expected an Error, got ${err}`);
    return err;
  }
}

// The client hides the HTTP status of a code != 0 answer; it is "not 400/401/404" (200 expected).
function errInfo(err) {
  const m = /^IAMPORT_(-?\d+)$/.exec(err.code || '');
  if (m) return { httpStatus: 200, code: Number(m[1]), message: err.message };
  const s = /^HTTP_(\d+)$/.exec(err.code || '');
  return { httpStatus: s ? Number(s[1]) : undefined, code: undefined, message: err.message };
}

async function issueKey(card = h.CARD_OK) {
  const customer_uid = h.uid('old_c');
  const key = await iamport.subscribe_customer.create({ customer_uid, card_number: card, ...h.CARD_INFO });
  assert.equal(key.customer_uid, customer_uid);
  return { customer_uid, key };
}

async function payAgain(customer_uid, amount = 1000) {
  const merchant_uid = h.uid('old_m');
  const p = await iamport.subscribe.again({ customer_uid, merchant_uid, amount, name: 'compat iamport' });
  return { merchant_uid, p };
}

describe('iamport (old official client)', { timeout: 60_000 }, () => {
  it('the host override is in effect', () => {
    assert.equal(iamport._host, h.BILLKEY_URL);
    assert.equal(iamport.payment._host, h.BILLKEY_URL);
    assert.equal(iamport.subscribe._host, h.BILLKEY_URL);
    assert.equal(iamport.subscribe_customer._host, h.BILLKEY_URL);
  });

  it('wrong secret: rejected with HTTP_401 (after one token refresh + retry)', async () => {
    const bad = new Iamport({ impKey: h.IMP_KEY, impSecret: `${h.IMP_SECRET}_wrong` });
    const err = await rejection(bad.payment.getByImpUid({ imp_uid: 'imp_000000000000' }));
    assert.equal(err.code, 'HTTP_401');
  });

  it('1. subscribe_customer.create, then .get: masked card, no full number', async () => {
    const { customer_uid, key } = await issueKey();
    h.assertMaskedCard(key.card_number, h.CARD_OK);
    h.assertNoFullPan(key, h.CARD_OK);

    // the token was fetched implicitly and is cached on the instance
    assert.equal(typeof iamport.token.access_token, 'string');
    assert.ok(iamport.token.expired_at > h.nowSec());

    const got = await iamport.subscribe_customer.get({ customer_uid });
    assert.equal(got.customer_uid, customer_uid);
    h.assertMaskedCard(got.card_number, h.CARD_OK);
    h.assertPositiveTime(got.inserted, 'inserted');
    h.assertNoFullPan(got, h.CARD_OK);
  });

  it('2. subscribe.again 1000 KRW is paid', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    h.assertPaidAgain(p, { customer_uid, merchant_uid, amount: 1000 });
    h.assertNoFullPan(p, h.CARD_OK);
  });

  it('3. a declined charge resolves with status "failed"', async () => {
    const { customer_uid } = await issueKey(h.CARD_DECLINE_LATER);
    const { merchant_uid, p } = await payAgain(customer_uid);
    h.assertFailedPayment(p, { merchant_uid });
    assert.equal(p.customer_uid, customer_uid);

    const again = await iamport.payment.getByImpUid({ imp_uid: p.imp_uid });
    h.assertFailedPayment(again, { merchant_uid });
  });

  it('4. subscribe.onetime without and with customer_uid', async () => {
    const m1 = h.uid('old_o');
    const p1 = await iamport.subscribe.onetime({
      merchant_uid: m1, amount: 1000, card_number: h.CARD_OK, ...h.CARD_INFO, name: 'compat onetime',
    });
    assert.equal(p1.status, 'paid');
    assert.equal(p1.amount, 1000);
    assert.equal(p1.merchant_uid, m1);
    assert.equal(p1.channel, 'api');
    assert.ok(!p1.customer_uid, 'no billing key was requested');
    h.assertNoFullPan(p1, h.CARD_OK);

    const customer_uid = h.uid('old_c');
    const m2 = h.uid('old_o');
    const p2 = await iamport.subscribe.onetime({
      merchant_uid: m2, amount: 1000, card_number: h.CARD_OK, ...h.CARD_INFO,
      customer_uid, name: 'compat onetime+key',
    });
    assert.equal(p2.status, 'paid');
    assert.equal(p2.customer_uid, customer_uid);

    const key = await iamport.subscribe_customer.get({ customer_uid });
    assert.equal(key.customer_uid, customer_uid);
    h.assertMaskedCard(key.card_number, h.CARD_OK);

    const { merchant_uid, p } = await payAgain(customer_uid);
    h.assertPaidAgain(p, { customer_uid, merchant_uid, amount: 1000 });
  });

  it('5. lookups: payment.getByImpUid, payment.getByMerchant, payment.getByStatus, 404s', async () => {
    const start = h.nowSec();
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    const imp_uid = p.imp_uid;

    const byImp = await iamport.payment.getByImpUid({ imp_uid });
    h.assertPaidAgain(byImp, { customer_uid, merchant_uid, amount: 1000 });

    const byMerchant = await iamport.payment.getByMerchant({ merchant_uid }); // GET /payments/find/{m}
    assert.equal(byMerchant.imp_uid, imp_uid);

    const sorted = await iamport.payment.getByMerchant({ merchant_uid, sorting: '-started' });
    assert.equal(sorted.imp_uid, imp_uid);

    const hit = await h.findInPages(
      (page) => iamport.payment.getByStatus({
        payment_status: 'paid', page, limit: 100, from: start - 600, to: h.nowSec() + 600,
      }),
      (x) => x.imp_uid === imp_uid);
    assert.ok(hit, 'payment should be listed by payment.getByStatus("paid")');

    const e1 = await rejection(iamport.payment.getByImpUid({ imp_uid: `imp_${Date.now()}0` }));
    assert.equal(e1.code, 'HTTP_404');
    const e2 = await rejection(iamport.payment.getByMerchant({ merchant_uid: h.uid('old_none') }));
    assert.equal(e2.code, 'HTTP_404');
  });

  it('6. payment.cancel partially, then fully, then a third cancel fails', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    const imp_uid = p.imp_uid;

    const partial = await iamport.payment.cancel({ imp_uid, amount: 300, reason: 'compat partial' });
    assert.equal(partial.imp_uid, imp_uid);
    assert.equal(partial.cancel_amount, 300);
    assert.equal(partial.cancel_history.length, 1);

    const full = await iamport.payment.cancel({ merchant_uid, reason: 'compat full' });
    assert.equal(full.imp_uid, imp_uid);
    assert.equal(full.cancel_amount, 1000);
    assert.equal(full.status, 'cancelled');
    assert.equal(full.cancel_history.length, 2);

    const err = await rejection(iamport.payment.cancel({ imp_uid, reason: 'compat again' }));
    h.assertBusinessError(errInfo(err), h.MSG.nothingToCancel);
  });

  it('7. again with a merchant_uid that is already paid is refused', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    assert.equal(p.status, 'paid');
    const err = await rejection(
      iamport.subscribe.again({ customer_uid, merchant_uid, amount: 1000, name: 'compat dup' }));
    h.assertBusinessError(errInfo(err), h.MSG.alreadyPaid);
  });

  it('8. subscribe_customer.delete, then again fails (unknown customer)', async () => {
    const { customer_uid } = await issueKey();
    const del = await iamport.subscribe_customer.delete({ customer_uid });
    assert.equal(del.customer_uid, customer_uid);

    const gone = await rejection(iamport.subscribe_customer.get({ customer_uid }));
    assert.ok(/^(HTTP_404|IAMPORT_-?[1-9]\d*)$/.test(gone.code), `unexpected error ${gone.code}: ${gone.message}`);

    const err = await rejection(payAgain(customer_uid));
    h.assertBusinessError(errInfo(err), h.MSG.unknownCustomer);
  });
});
