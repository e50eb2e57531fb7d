'use strict';

// Drives a running Billkey with `iamporter` (posquit0/node-iamporter), pointed at it with the
// `host` constructor option.
//
// How iamporter reacts (lib/Iamporter.js):
//  - resolves {status, message, data: body.response, raw: body} on 2xx with code === 0 (207 included);
//  - rejects IamporterError(message, {status, data, raw}) on 2xx with code !== 0 and on 400;
//  - rejects IamporterError('아임포트 API 인증에 실패하였습니다.') on 401 (no retry);
//  - RESOLVES on 404 (data = body.response, i.e. null);
//  - payOnetime/paySubscription additionally reject with a bare IamporterError(fail_reason)
//    (no status/data/raw) unless response.status === 'paid' && response.amount === amount.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Iamporter, IamporterError } = require('iamporter');
const h = require('./helpers');

const client = new Iamporter({ apiKey: h.IMP_KEY, secret: h.IMP_SECRET, host: h.BILLKEY_URL });

async function rejection(promise) {
  try {
    const res = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(res && res.raw !== undefined ? res.raw : res)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof IamporterError, `expected IamporterError, got ${err && err.stack}`);
    return err;
  }
}

function errInfo(err) {
  return { httpStatus: err.status, code: err.raw && err.raw.code, message: err.raw && err.raw.message };
}

async function issueKey(card = h.CARD_OK) {
  const customer_uid = h.uid('ipr_c');
  const res = await client.createSubscription({ customer_uid, card_number: card, ...h.CARD_INFO });
  assert.equal(res.status, 200);
  assert.equal(res.data.customer_uid, customer_uid);
  return { customer_uid, res };
}

async function payAgain(customer_uid, amount = 1000) {
  const merchant_uid = h.uid('ipr_m');
  const res = await client.paySubscription({ customer_uid, merchant_uid, amount, name: 'compat iamporter' });
  return { merchant_uid, res };
}

describe('iamporter', { timeout: 60_000 }, () => {
  it('getToken returns a token; wrong secret is rejected as 401', async () => {
    const res = await client.getToken();
    assert.equal(res.status, 200);
    assert.equal(typeof res.data.access_token, 'string');
    assert.ok(res.data.access_token.length > 0);
    assert.ok(res.data.expired_at > h.nowSec(), 'expired_at should be in the future');
    assert.equal(typeof res.data.now, 'number');

    const bad = new Iamporter({ apiKey: h.IMP_KEY, secret: `${h.IMP_SECRET}_wrong`, host: h.BILLKEY_URL });
    const err = await rejection(bad.findByImpUid('imp_000000000000'));
    assert.equal(err.status, 401);
  });

  it('1. issues a billing key and reads it back, masked', async () => {
    const { customer_uid, res } = await issueKey();
    h.assertMaskedCard(res.data.card_number, h.CARD_OK);
    h.assertNoFullPan(res.raw, h.CARD_OK);

    const got = await client.getSubscription(customer_uid);
    assert.equal(got.status, 200);
    assert.equal(got.raw.code, 0);
    assert.equal(got.data.customer_uid, customer_uid);
    h.assertMaskedCard(got.data.card_number, h.CARD_OK);
    h.assertPositiveTime(got.data.inserted, 'inserted');
    h.assertNoFullPan(got.raw, h.CARD_OK);
  });

  it('2. paySubscription (again) 1000 KRW is paid', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, res } = await payAgain(customer_uid);
    assert.equal(res.status, 200);
    h.assertPaidAgain(res.data, { customer_uid, merchant_uid, amount: 1000 });
    h.assertNoFullPan(res.raw, h.CARD_OK);
  });

  it('3. a declined charge: iamporter rejects with fail_reason only; the failed payment is stored', async () => {
    const { customer_uid } = await issueKey(h.CARD_DECLINE_LATER);
    const merchant_uid = h.uid('ipr_m');
    const err = await rejection(
      client.paySubscription({ customer_uid, merchant_uid, amount: 1000, name: 'compat decline' }));
    // iamporter's _validatePayment throws `new IamporterError(res.data.fail_reason)`: the HTTP
    // call succeeded (code 0, status "failed"), so the error carries only the fail_reason text.
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0, 'rejection message (= fail_reason) should be non-empty');
    assert.equal(err.status, undefined, 'a code!=0 rejection would carry a status; this must be a decline');
    assert.equal(err.raw, undefined);

    const found = await client.findByMerchantUid(merchant_uid);
    assert.equal(found.status, 200);
    h.assertFailedPayment(found.data, { merchant_uid });
    assert.equal(found.data.fail_reason, err.message);
    assert.equal(found.data.customer_uid, customer_uid);

    const all = await client.findAllByMerchantUid(merchant_uid, { status: 'failed' });
    assert.equal(all.status, 200);
    assert.ok(all.data.list.some((p) => p.merchant_uid === merchant_uid && p.status === 'failed'));
  });

  it('4. payOnetime without and with customer_uid', async () => {
    const m1 = h.uid('ipr_o');
    const r1 = await client.payOnetime({
      merchant_uid: m1, amount: 1000, card_number: h.CARD_OK, ...h.CARD_INFO, name: 'compat onetime',
    });
    assert.equal(r1.data.status, 'paid');
    assert.equal(r1.data.amount, 1000);
    assert.equal(r1.data.merchant_uid, m1);
    assert.equal(r1.data.channel, 'api');
    assert.ok(!r1.data.customer_uid, 'no billing key was requested');
    h.assertNoFullPan(r1.raw, h.CARD_OK);

    const customer_uid = h.uid('ipr_c');
    const m2 = h.uid('ipr_o');
    const r2 = await client.payOnetime({
      merchant_uid: m2, amount: 1000, card_number: h.CARD_OK, ...h.CARD_INFO,
      customer_uid, name: 'compat onetime+key',
    });
    assert.equal(r2.data.status, 'paid');
    assert.equal(r2.data.customer_uid, customer_uid);
    h.assertNoFullPan(r2.raw, h.CARD_OK);

    const key = await client.getSubscription(customer_uid);
    assert.equal(key.status, 200);
    assert.equal(key.data.customer_uid, customer_uid);
    h.assertMaskedCard(key.data.card_number, h.CARD_OK);

    const { merchant_uid, res } = await payAgain(customer_uid);
    h.assertPaidAgain(res.data, { customer_uid, merchant_uid, amount: 1000 });
  });

  it('5. lookups: findByImpUid, findByMerchantUid, findAllByMerchantUid, findAllByStatus, 404s', async () => {
    const start = h.nowSec();
    const { customer_uid } = await issueKey();
    const { merchant_uid, res } = await payAgain(customer_uid);
    const imp_uid = res.data.imp_uid;

    const byImp = await client.findByImpUid(imp_uid);
    assert.equal(byImp.status, 200);
    h.assertPaidAgain(byImp.data, { customer_uid, merchant_uid, amount: 1000 });

    const byMerchant = await client.findByMerchantUid(merchant_uid); // GET /payments/find/{m}
    assert.equal(byMerchant.status, 200);
    assert.equal(byMerchant.data.imp_uid, imp_uid);

    const all = await client.findAllByMerchantUid(merchant_uid); // GET /payments/findAll/{m}/ (trailing slash)
    assert.equal(all.status, 200);
    assert.ok(all.data.list.some((p) => p.imp_uid === imp_uid), JSON.stringify(all.raw));
    assert.ok(all.data.total >= 1);

    const allPaid = await client.findAllByMerchantUid(merchant_uid, { status: 'paid' });
    assert.ok(allPaid.data.list.some((p) => p.imp_uid === imp_uid));

    const hit = await h.findInPages(async (page) => {
      const r = await client.findAllByStatus('paid', { page, limit: 100, from: start - 600, to: h.nowSec() + 600 });
      assert.equal(r.status, 200);
      return r.data;
    }, (p) => p.imp_uid === imp_uid);
    assert.ok(hit, 'payment should be listed by findAllByStatus("paid")');
    assert.equal(hit.status, 'paid');

    // iamporter resolves (does not reject) on 404.
    const missing = await client.findByImpUid(`imp_${Date.now()}0`);
    assert.equal(missing.status, 404);
    assert.equal(missing.data, null);
    assert.notEqual(missing.raw.code, 0);

    const missingM = await client.findByMerchantUid(h.uid('ipr_none'));
    assert.equal(missingM.status, 404);
    assert.equal(missingM.data, null);
  });

  it('6. cancel partially, then fully, then a third cancel fails', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, res } = await payAgain(customer_uid);
    const imp_uid = res.data.imp_uid;

    const partial = await client.cancelByImpUid(imp_uid, { amount: 300, reason: 'compat partial' });
    assert.equal(partial.status, 200);
    assert.equal(partial.data.imp_uid, imp_uid);
    assert.equal(partial.data.cancel_amount, 300);
    assert.equal(partial.data.cancel_history.length, 1);
    assert.equal(partial.data.cancel_history[0].amount, 300);

    const full = await client.cancelByMerchantUid(merchant_uid, { reason: 'compat full' });
    assert.equal(full.data.imp_uid, imp_uid);
    assert.equal(full.data.cancel_amount, 1000);
    assert.equal(full.data.status, 'cancelled');
    assert.equal(full.data.cancel_history.length, 2);
    h.assertPositiveTime(full.data.cancelled_at, 'cancelled_at');

    const err = await rejection(client.cancel({ imp_uid, reason: 'compat again' }));
    h.assertBusinessError(errInfo(err), h.MSG.nothingToCancel);
    assert.equal(err.message, err.raw.message);
  });

  it('7. again with a merchant_uid that is already paid is refused', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, res } = await payAgain(customer_uid);
    assert.equal(res.data.status, 'paid');

    const err = await rejection(
      client.paySubscription({ customer_uid, merchant_uid, amount: 1000, name: 'compat dup' }));
    h.assertBusinessError(errInfo(err), h.MSG.alreadyPaid);
  });

  it('8. deleteSubscription, then paySubscription fails (unknown customer)', async () => {
    const { customer_uid } = await issueKey();
    const del = await client.deleteSubscription(customer_uid);
    assert.equal(del.status, 200);
    assert.equal(del.data.customer_uid, customer_uid);
    h.assertNoFullPan(del.raw, h.CARD_OK);

    // Unknown key: 404 (iamporter resolves, data null) or 200 + code != 0 (iamporter rejects).
    let gone;
    try {
      gone = await client.getSubscription(customer_uid);
    } catch (err) {
      assert.ok(err instanceof IamporterError);
      gone = { status: err.status, data: err.data, raw: err.raw };
    }
    assert.ok([200, 404].includes(gone.status), `unexpected HTTP ${gone.status}`);
    assert.notEqual(gone.raw.code, 0);
    assert.equal(gone.data, null);

    const err = await rejection(payAgain(customer_uid));
    h.assertBusinessError(errInfo(err), h.MSG.unknownCustomer);
  });
});
