'use strict';

// Drives a running Billkey with the official TypeScript client `iamport-rest-client-nodejs`
// (iamport/rest-client-nodejs), pointed at it with the `baseUrl` constructor option.
//
// Usage shape: `await Request.<Group>.<method>(params).request(iamport)` resolves the axios
// response whose `data` is replaced by an Item/List/Collection: `res.data.response` is the payload
// after the client's own field mapping (unknown fields are dropped, unix-second timestamps become
// Date objects; an exact 0 stays 0).
//
// How it reacts (dist/request/Base.js, axios 0.19 defaults):
//  - 2xx with code === 0 resolves (207 too; for Payments.getByImpUids `res.data.failed` lists the
//    requested imp_uids missing from the answer);
//  - 2xx with code !== 0 rejects with the plain object {response: {data: body}} (no HTTP status);
//  - any non-2xx (400/401/404/500) rejects with the AxiosError (err.response.status/.data);
//  - no retry on 401; the token is cached until expired_at - 30 s.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Iamport, Request } = require('iamport-rest-client-nodejs');
const h = require('./helpers');

const { Authenticate, Customers, Payments, Subscribe } = Request;

function makeClient(apiSecret = h.IMP_SECRET) {
  const iamport = new Iamport({ apiKey: h.IMP_KEY, apiSecret, baseUrl: h.BILLKEY_URL });
  // Keep the raw body (before the client's field mapping) and the HTTP status of every answer.
  iamport.getApiInstance().interceptors.response.use((res) => {
    res.rawBody = JSON.stringify(res.data);
    if (res.data && typeof res.data === 'object') httpStatusOf.set(res.data, res.status);
    return res;
  });
  return iamport;
}
const httpStatusOf = new WeakMap();
const iamport = makeClient();

async function rejection(promise) {
  try {
    const res = await promise;
    assert.fail(`expected a rejection, got HTTP ${res && res.status} ${res && res.rawBody}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err && err.response && 'data' in err.response, `unexpected rejection shape: ${err && err.stack}`);
    return err;
  }
}

function errInfo(err) {
  const data = err.response.data || {};
  const httpStatus = err.response.status !== undefined ? err.response.status : httpStatusOf.get(data);
  return { httpStatus, code: data.code, message: data.message };
}

async function issueKey(card = h.CARD_OK) {
  const customer_uid = h.uid('rcn_c');
  const res = await Customers.postBillingKey({
    customer_uid, card_number: card, ...h.CARD_INFO,
    customer_name: '홍길동', customer_tel: '01012345678', customer_email: 'compat@example.com',
  }).request(iamport);
  assert.equal(res.status, 200);
  assert.equal(res.data.code, 0);
  assert.equal(res.data.response.customer_uid, customer_uid);
  return { customer_uid, res };
}

async function payAgain(customer_uid, amount = 1000) {
  const merchant_uid = h.uid('rcn_m');
  const res = await Subscribe.again({ customer_uid, merchant_uid, amount, name: 'compat rest-client' })
    .request(iamport);
  return { merchant_uid, res, p: res.data.response };
}

describe('iamport-rest-client-nodejs', { timeout: 60_000 }, () => {
  it('Authenticate.getToken; wrong secret is an HTTP 401 AxiosError', async () => {
    const res = await Authenticate.getToken({ imp_key: h.IMP_KEY, imp_secret: h.IMP_SECRET }).request(iamport);
    assert.equal(res.status, 200);
    const t = res.data.response;
    assert.equal(typeof t.access_token, 'string');
    assert.ok(t.access_token.length > 0);
    assert.ok(h.toSec(t.expired_at) > h.nowSec());
    h.assertPositiveTime(t.now, 'now');

    const bad = makeClient(`${h.IMP_SECRET}_wrong`);
    const err = await rejection(Payments.getByImpUid({ imp_uid: 'imp_000000000000' }).request(bad));
    assert.equal(err.response.status, 401);
  });

  it('1. Customers.postBillingKey, then getBillingKey: masked card, no full number', async () => {
    const { customer_uid, res } = await issueKey();
    h.assertMaskedCard(res.data.response.card_number, h.CARD_OK);
    h.assertNoFullPan(res.rawBody, h.CARD_OK);
    assert.equal(res.data.response.customer_name, '홍길동');

    const got = await Customers.getBillingKey({ customer_uid }).request(iamport);
    assert.equal(got.status, 200);
    assert.equal(got.data.response.customer_uid, customer_uid);
    h.assertMaskedCard(got.data.response.card_number, h.CARD_OK);
    h.assertPositiveTime(got.data.response.inserted, 'inserted');
    h.assertNoFullPan(got.rawBody, h.CARD_OK);

    const { customer_uid: other } = await issueKey();
    const many = await Customers.getBillingKeys({ customer_uid: [customer_uid, other] }).request(iamport);
    assert.equal(many.status, 200);
    assert.deepEqual(many.data.response.map((c) => c.customer_uid).sort(), [customer_uid, other].sort());
    h.assertNoFullPan(many.rawBody, h.CARD_OK);
  });

  it('2. Subscribe.again 1000 KRW is paid', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, res, p } = await payAgain(customer_uid);
    assert.equal(res.status, 200);
    h.assertPaidAgain(p, { customer_uid, merchant_uid, amount: 1000 });
    assert.equal(p.failed_at, 0);
    assert.deepEqual(p.cancel_history, []);
    h.assertNoFullPan(res.rawBody, h.CARD_OK);
  });

  it('3. a declined charge resolves with status "failed"', async () => {
    const { customer_uid } = await issueKey(h.CARD_DECLINE_LATER);
    const { merchant_uid, res, p } = await payAgain(customer_uid);
    assert.equal(res.status, 200);
    assert.equal(res.data.code, 0);
    h.assertFailedPayment(p, { merchant_uid });
    assert.equal(p.customer_uid, customer_uid);

    const found = await Payments.getByMerchantUid({ merchant_uid, status: 'failed' }).request(iamport);
    assert.equal(found.data.response.imp_uid, p.imp_uid);
  });

  it('4. Subscribe.onetime without and with customer_uid', async () => {
    const m1 = h.uid('rcn_o');
    const r1 = await Subscribe.onetime({
      merchant_uid: m1, amount: 1000, card_number: h.CARD_OK, ...h.CARD_INFO, name: 'compat onetime',
    }).request(iamport);
    const p1 = r1.data.response;
    assert.equal(p1.status, 'paid');
    assert.equal(p1.amount, 1000);
    assert.equal(p1.merchant_uid, m1);
    assert.equal(p1.channel, 'api');
    assert.ok(!p1.customer_uid, 'no billing key was requested');
    h.assertNoFullPan(r1.rawBody, h.CARD_OK);

    const customer_uid = h.uid('rcn_c');
    const m2 = h.uid('rcn_o');
    const r2 = await Subscribe.onetime({
      merchant_uid: m2, amount: 1000, card_number: h.CARD_OK, ...h.CARD_INFO,
      customer_uid, name: 'compat onetime+key',
    }).request(iamport);
    assert.equal(r2.data.response.status, 'paid');
    assert.equal(r2.data.response.customer_uid, customer_uid);

    const key = await Customers.getBillingKey({ customer_uid }).request(iamport);
    assert.equal(key.data.response.customer_uid, customer_uid);
    h.assertMaskedCard(key.data.response.card_number, h.CARD_OK);

    const { merchant_uid, p } = await payAgain(customer_uid);
    h.assertPaidAgain(p, { customer_uid, merchant_uid, amount: 1000 });
  });

  it('5. lookups: getByImpUid, getByMerchantUid, getByMerchantUids, getByStatus, getByImpUids (+207), Customers.getPayments, 404', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    const imp_uid = p.imp_uid;
    const { p: second } = await payAgain(customer_uid, 1200);

    const byImp = await Payments.getByImpUid({ imp_uid }).request(iamport);
    h.assertPaidAgain(byImp.data.response, { customer_uid, merchant_uid, amount: 1000 });

    // Without `status` this client requests /payments/find/{m}/undefined, so always pass one.
    const byMerchant = await Payments.getByMerchantUid({ merchant_uid, status: 'paid', sorting: '-started' })
      .request(iamport);
    assert.equal(byMerchant.data.response.imp_uid, imp_uid);

    const all = await Payments.getByMerchantUids({ merchant_uid, status: 'paid', page: 1, sorting: '-started' })
      .request(iamport);
    assert.ok(all.data.response.list.some((x) => x.imp_uid === imp_uid), all.rawBody);
    assert.ok(all.data.response.total >= 1);

    const hit = await h.findInPages(async (page) => {
      const r = await Payments.getByStatus({ status: 'paid', page, limit: 100, sorting: '-started' }).request(iamport);
      return r.data.response;
    }, (x) => x.imp_uid === imp_uid);
    assert.ok(hit, 'payment should be listed by Payments.getByStatus("paid")');

    const multi = await Payments.getByImpUids({ imp_uid: [imp_uid, second.imp_uid] }).request(iamport);
    assert.equal(multi.status, 200);
    assert.deepEqual(multi.data.response.map((x) => x.imp_uid).sort(), [imp_uid, second.imp_uid].sort());

    const unknown = `imp_${Date.now()}0`;
    const partial = await Payments.getByImpUids({ imp_uid: [imp_uid, unknown] }).request(iamport);
    assert.equal(partial.status, 207, 'some ids unknown => HTTP 207');
    assert.deepEqual(partial.data.response.map((x) => x.imp_uid), [imp_uid]);
    assert.deepEqual(partial.data.failed, [unknown]);

    const byKey = await h.findInPages(async (page) => {
      const r = await Customers.getPayments({ customer_uid, page }).request(iamport);
      return r.data.response;
    }, (x) => x.imp_uid === imp_uid);
    assert.ok(byKey, 'payment should be listed by Customers.getPayments');

    const err = await rejection(Payments.getByImpUid({ imp_uid: unknown }).request(iamport));
    assert.equal(err.response.status, 404);
    assert.notEqual(err.response.data.code, 0);
    assert.equal(err.response.data.response, null);

    const err2 = await rejection(
      Payments.getByMerchantUid({ merchant_uid: h.uid('rcn_none'), status: 'paid' }).request(iamport));
    assert.equal(err2.response.status, 404);
  });

  it('6. Payments.cancel partially (with checksum), then fully, then a third cancel fails', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    const imp_uid = p.imp_uid;

    const partial = await Payments.cancel({ imp_uid, amount: 300, checksum: 1000, reason: 'compat partial' })
      .request(iamport);
    const c1 = partial.data.response;
    assert.equal(c1.imp_uid, imp_uid);
    assert.equal(c1.cancel_amount, 300);
    assert.equal(c1.cancel_history.length, 1);
    assert.equal(c1.cancel_history[0].amount, 300);

    const full = await Payments.cancel({ merchant_uid, checksum: 700, reason: 'compat full' }).request(iamport);
    const c2 = full.data.response;
    assert.equal(c2.imp_uid, imp_uid);
    assert.equal(c2.cancel_amount, 1000);
    assert.equal(c2.status, 'cancelled');
    assert.equal(c2.cancel_history.length, 2);
    h.assertPositiveTime(c2.cancelled_at, 'cancelled_at');

    const err = await rejection(Payments.cancel({ imp_uid, reason: 'compat again' }).request(iamport));
    h.assertBusinessError(errInfo(err), h.MSG.nothingToCancel);
  });

  it('7. again with a merchant_uid that is already paid is refused', async () => {
    const { customer_uid } = await issueKey();
    const { merchant_uid, p } = await payAgain(customer_uid);
    assert.equal(p.status, 'paid');
    const err = await rejection(
      Subscribe.again({ customer_uid, merchant_uid, amount: 1000, name: 'compat dup' }).request(iamport));
    h.assertBusinessError(errInfo(err), h.MSG.alreadyPaid);
  });

  it('8. Customers.deleteBillingKey, then again fails (unknown customer)', async () => {
    const { customer_uid } = await issueKey();
    const del = await Customers.deleteBillingKey({ customer_uid }).request(iamport);
    assert.equal(del.status, 200);
    assert.equal(del.data.response.customer_uid, customer_uid);

    const gone = await rejection(Customers.getBillingKey({ customer_uid }).request(iamport));
    const g = errInfo(gone);
    assert.ok([200, 404].includes(g.httpStatus), `unexpected HTTP ${g.httpStatus}`);
    assert.notEqual(g.code, 0);

    const err = await rejection(payAgain(customer_uid));
    h.assertBusinessError(errInfo(err), h.MSG.unknownCustomer);
  });
});
