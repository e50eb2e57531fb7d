'use strict';

// Scheduled payments through the two official clients. Guarded: runs only with
// BILLKEY_COMPAT_SCHEDULES=1 (skipped otherwise).
//
//   BILLKEY_COMPAT_SCHEDULE_DELAY    seconds from now for the entry that is left to execute (default 5)
//   BILLKEY_COMPAT_SCHEDULE_TIMEOUT  seconds to wait for it to be executed (default 90)
//
// Client coverage:
//  - iamport-rest-client-nodejs: Subscribe.schedule, Subscribe.getScheduled,
//    Subscribe.getScheduleds (GET /subscribe/payments/schedule/customers/{uid}?from&to&schedule-status),
//    Customers.getScheduleds (GET /subscribe/customers/{uid}/schedules), Subscribe.unschedule.
//    It has no method for the global range list GET /subscribe/payments/schedule.
//  - iamport 0.3.4 (the published version) only has subscribe.schedule and subscribe.unschedule;
//    its entries are looked up through the TS client here.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const enabled = process.env.BILLKEY_COMPAT_SCHEDULES === '1';
const DELAY = Number(process.env.BILLKEY_COMPAT_SCHEDULE_DELAY || 5);
const WAIT = Number(process.env.BILLKEY_COMPAT_SCHEDULE_TIMEOUT || 90);
// With a server on `billkey serve --test-clock`, move its clock instead of
// waiting in real time for the entry to fall due.
const TEST_CLOCK = process.env.BILLKEY_COMPAT_TEST_CLOCK === '1';

async function advanceClock(move) {
  const base = process.env.BILLKEY_URL.replace(/\/$/, '');
  const tok = await (await fetch(base + '/users/getToken', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ imp_key: process.env.IMP_KEY, imp_secret: process.env.IMP_SECRET }),
  })).json();
  const res = await (await fetch(base + '/sandbox/clock/advance', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok.response.access_token },
    body: JSON.stringify(move),
  })).json();
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.response;
}
const skip = enabled ? false : 'set BILLKEY_COMPAT_SCHEDULES=1 to run the schedule suite';

// Only load the clients (and require IMP_KEY etc.) when enabled.
const ctx = {};
if (enabled) {
  ctx.h = require('./helpers');
  const { Iamport: TsIamport, Request } = require('iamport-rest-client-nodejs');
  ctx.ts = new TsIamport({ apiKey: ctx.h.IMP_KEY, apiSecret: ctx.h.IMP_SECRET, baseUrl: ctx.h.BILLKEY_URL });
  ctx.ts.getApiInstance().interceptors.response.use((res) => {
    if (res.data && typeof res.data === 'object') httpStatusOf.set(res.data, res.status);
    return res;
  });
  ctx.Request = Request;
  const OldIamport = require('iamport');
  OldIamport.DEFAULT_HOST = ctx.h.BILLKEY_URL;
  ctx.old = new OldIamport({ impKey: ctx.h.IMP_KEY, impSecret: ctx.h.IMP_SECRET });
}
const httpStatusOf = new WeakMap();

async function tsRejection(promise) {
  try {
    const res = await promise;
    assert.fail(`expected a rejection, got HTTP ${res && res.status} ${JSON.stringify(res && res.data)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err && err.response && 'data' in err.response, `unexpected rejection shape: ${err && err.stack}`);
    const data = err.response.data || {};
    return {
      httpStatus: err.response.status !== undefined ? err.response.status : httpStatusOf.get(data),
      code: data.code,
      message: data.message,
    };
  }
}

async function getScheduled(merchant_uid) {
  const { Subscribe } = ctx.Request;
  const res = await Subscribe.getScheduled({ merchant_uid }).request(ctx.ts);
  assert.equal(res.status, 200);
  return res.data.response;
}

describe('schedules: iamport-rest-client-nodejs', { skip, timeout: (WAIT + 60) * 1000 }, () => {
  it('schedule, getScheduled, getScheduleds (both paths), unschedule, execution', async () => {
    const { h } = ctx;
    const { Customers, Subscribe, Payments } = ctx.Request;

    const customer_uid = h.uid('rcs_c');
    await Customers.postBillingKey({ customer_uid, card_number: h.CARD_OK, ...h.CARD_INFO }).request(ctx.ts);

    const now = h.nowSec();
    const mSoon = h.uid('rcs_s');
    const mLater = h.uid('rcs_s');
    const created = await Subscribe.schedule({
      customer_uid,
      schedules: [
        { merchant_uid: mSoon, schedule_at: now + DELAY, amount: 1000, currency: 'KRW', name: 'compat soon' },
        { merchant_uid: mLater, schedule_at: now + 3600, amount: 2000, currency: 'KRW', name: 'compat later' },
      ],
    }).request(ctx.ts);
    assert.equal(created.status, 200);
    const list = created.data.response; // array
    assert.equal(list.length, 2);
    for (const s of list) {
      assert.equal(s.customer_uid, customer_uid);
      assert.equal(s.schedule_status, 'scheduled');
      assert.equal(s.payment_status, null);
      assert.equal(s.executed_at, 0);
      assert.equal(s.revoked_at, 0);
    }
    const later = list.find((s) => s.merchant_uid === mLater);
    assert.ok(later);
    assert.equal(h.toSec(later.schedule_at), now + 3600);
    assert.equal(later.amount, 2000);

    const one = await getScheduled(mLater);
    assert.equal(one.merchant_uid, mLater);
    assert.equal(one.customer_uid, customer_uid);
    assert.equal(one.schedule_status, 'scheduled');
    assert.equal(h.toSec(one.schedule_at), now + 3600);

    const range = { from: now - 60, to: now + 7200 };
    const byCustomer = await Subscribe.getScheduleds({ customer_uid, ...range, page: 1 }).request(ctx.ts);
    const merchants = byCustomer.data.response.list.map((s) => s.merchant_uid).sort();
    assert.deepEqual(merchants, [mLater, mSoon].sort());

    const onlyScheduled = await Subscribe.getScheduleds({
      customer_uid, ...range, page: 1, 'schedule-status': 'scheduled',
    }).request(ctx.ts);
    assert.ok(onlyScheduled.data.response.list.some((s) => s.merchant_uid === mLater));
    assert.ok(onlyScheduled.data.response.list.every((s) => s.schedule_status === 'scheduled'));

    const viaCustomers = await Customers.getScheduleds({ customer_uid, ...range, page: 1 }).request(ctx.ts);
    assert.deepEqual(viaCustomers.data.response.list.map((s) => s.merchant_uid).sort(), [mLater, mSoon].sort());

    const revoked = await Subscribe.unschedule({ customer_uid, merchant_uid: mLater }).request(ctx.ts);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.data.response.length, 1);
    assert.equal(revoked.data.response[0].merchant_uid, mLater);
    assert.equal(revoked.data.response[0].schedule_status, 'revoked');
    h.assertPositiveTime(revoked.data.response[0].revoked_at, 'revoked_at');
    assert.equal((await getScheduled(mLater)).schedule_status, 'revoked');

    // Let the near entry execute.
    if (TEST_CLOCK) await advanceClock({ to: now + DELAY + 1 });
    const deadline = Date.now() + WAIT * 1000;
    let soon;
    for (;;) {
      soon = await getScheduled(mSoon);
      if (soon.schedule_status === 'executed') break;
      assert.ok(Date.now() < deadline, `schedule ${mSoon} not executed within ${WAIT}s: ${JSON.stringify(soon)}`);
      await h.sleep(1000);
    }
    assert.equal(soon.payment_status, 'paid');
    h.assertPositiveTime(soon.executed_at, 'executed_at');
    assert.equal(typeof soon.imp_uid, 'string');

    const pay = (await Payments.getByImpUid({ imp_uid: soon.imp_uid }).request(ctx.ts)).data.response;
    assert.equal(pay.status, 'paid');
    assert.equal(pay.amount, 1000);
    assert.equal(pay.merchant_uid, mSoon);
    assert.equal(pay.customer_uid, customer_uid);
    assert.equal(pay.customer_uid_usage, 'payment.scheduled');
    assert.equal(pay.channel, 'api');

    // Nothing left to revoke for this customer.
    const e = await tsRejection(Subscribe.unschedule({ customer_uid }).request(ctx.ts));
    h.assertBusinessError(e, '취소할 예약결제 기록이 존재하지 않습니다');

    const missing = await tsRejection(Subscribe.getScheduled({ merchant_uid: h.uid('rcs_none') }).request(ctx.ts));
    assert.equal(missing.httpStatus, 404);
  });
});

describe('schedules: iamport (old client)', { skip, timeout: 60_000 }, () => {
  it('subscribe.schedule for an existing key, then subscribe.unschedule with an array', async () => {
    const { h, old } = ctx;
    const customer_uid = h.uid('old_sc');
    await old.subscribe_customer.create({ customer_uid, card_number: h.CARD_OK, ...h.CARD_INFO });

    const now = h.nowSec();
    const m1 = h.uid('old_s');
    const m2 = h.uid('old_s');
    // The old client sends the schedules exactly as given (no name/currency here, like its README).
    const created = await old.subscribe.schedule({
      customer_uid,
      schedules: [
        { merchant_uid: m1, schedule_at: now + 3600, amount: 1000 },
        { merchant_uid: m2, schedule_at: now + 7200, amount: 1500 },
      ],
    });
    assert.ok(Array.isArray(created), `schedule should answer an array: ${JSON.stringify(created)}`);
    assert.deepEqual(created.map((s) => s.merchant_uid).sort(), [m1, m2].sort());
    assert.ok(created.every((s) => s.schedule_status === 'scheduled' && s.payment_status === null));

    const s1 = await getScheduled(m1);
    assert.equal(s1.customer_uid, customer_uid);
    assert.equal(h.toSec(s1.schedule_at), now + 3600);

    const revoked = await old.subscribe.unschedule({ customer_uid, merchant_uid: [m1, m2] });
    assert.ok(Array.isArray(revoked));
    assert.deepEqual(revoked.map((s) => s.merchant_uid).sort(), [m1, m2].sort());
    assert.ok(revoked.every((s) => s.schedule_status === 'revoked'));

    const err = await old.subscribe.unschedule({ customer_uid }).then(
      (r) => assert.fail(`expected a rejection, got ${JSON.stringify(r)}`),
      (e) => e);
    assert.ok(/^IAMPORT_-?[1-9]\d*$/.test(err.code), `expected IAMPORT_<code>, got ${err.code}: ${err.message}`);
    assert.ok(err.message.includes('취소할 예약결제 기록이 존재하지 않습니다'), err.message);
  });

  it('subscribe.schedule with card data for a new customer_uid issues the key first', async () => {
    const { h, old } = ctx;
    const customer_uid = h.uid('old_sc');
    const m = h.uid('old_s');
    const created = await old.subscribe.schedule({
      customer_uid,
      card_number: h.CARD_OK,
      ...h.CARD_INFO,
      schedules: [{ merchant_uid: m, schedule_at: h.nowSec() + 3600, amount: 1000 }],
    });
    assert.equal(created.length, 1);
    assert.equal(created[0].merchant_uid, m);
    h.assertNoFullPan(created, h.CARD_OK);

    const key = await old.subscribe_customer.get({ customer_uid });
    assert.equal(key.customer_uid, customer_uid);
    h.assertMaskedCard(key.card_number, h.CARD_OK);

    const revoked = await old.subscribe.unschedule({ customer_uid, merchant_uid: m });
    assert.equal(revoked[0].schedule_status, 'revoked');
  });
});
