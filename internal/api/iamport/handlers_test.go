package iamport

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
)

type envOut struct {
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

func decode(t *testing.T, _ any, body string) envOut {
	t.Helper()
	var e envOut
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an envelope: %v: %s", err, body)
	}
	return e
}

// expect checks status, code and message (substring; "" = must be null).
func expect(t *testing.T, e fakeEnv, method, target, ct, body string, status, code int, msg string, headers ...string) envOut {
	t.Helper()
	rec := e.do(t, method, target, ct, body, headers...)
	out := decode(t, rec, rec.Body.String())
	if rec.Code != status || out.Code != code {
		t.Fatalf("%s %s: status/code = %d/%d, want %d/%d; body %s", method, target, rec.Code, out.Code, status, code, rec.Body.String())
	}
	if msg == "" {
		if out.Message != nil {
			t.Fatalf("message = %q, want null", *out.Message)
		}
		if code == 0 && string(out.Response) == "null" {
			t.Fatalf("success with null response")
		}
	} else {
		if out.Message == nil || !strings.Contains(*out.Message, msg) {
			t.Fatalf("message = %v, want it to contain %q", out.Message, msg)
		}
		if string(out.Response) != "null" {
			t.Fatalf("failure with response %s", out.Response)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	return out
}

func TestAuthHeaderForms(t *testing.T) {
	e := newFake(t, &fakeService{channels: func() ([]core.Channel, error) { return nil, nil }})
	ok := []struct{ name, h, v string }{
		{"bearer", "Authorization", "Bearer " + testToken},
		{"bearer lowercase", "Authorization", "bearer " + testToken},
		{"raw", "Authorization", testToken},
		{"raw padded", "Authorization", "  " + testToken + " "},
		{"legacy header", "X-ImpTokenHeader", testToken},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			out := expect(t, e, "GET", "/users/pg", "", "", 200, 0, "", tt.h, tt.v)
			if string(out.Response) != "[]" {
				t.Fatalf("empty channel list renders as %s", out.Response)
			}
		})
	}
	expect(t, e, "GET", "/users/pg?_token="+testToken, "", "", 200, 0, "", "X-Nothing", "")
	// Authorization wins when both are sent.
	expect(t, e, "GET", "/users/pg", "", "", 401, -1, msgUnauthorized, "Authorization", "stale", "X-ImpTokenHeader", testToken)
	expect(t, e, "GET", "/users/pg", "", "", 200, 0, "", "Authorization", testToken, "X-ImpTokenHeader", "stale")
	expect(t, e, "GET", "/users/pg", "", "", 401, -1, msgUnauthorized, "X-Nothing", "")
	expect(t, e, "GET", "/users/pg", "", "", 401, -1, msgUnauthorized, "Authorization", "Bearer ")
	expect(t, e, "GET", "/payments/imp_1", "", "", 401, -1, msgUnauthorized, "Authorization", "expired")
}

func TestGetToken(t *testing.T) {
	var gotKey, gotSecret string
	f := &fakeService{issueToken: func(k, s string) (core.Token, error) {
		gotKey, gotSecret = k, s
		if s != "S" {
			return core.Token{}, merchant.ErrBadCredentials
		}
		return core.Token{Token: "abc", IssuedAt: testNow, ExpiresAt: testNow.Add(30 * time.Minute)}, nil
	}}
	e := newFake(t, f)
	// go-iamport's naive form body, no token needed.
	out := expect(t, e, "POST", "/users/getToken", ctForm, "imp_key=K& imp_secret=S", 200, 0, "", "X-Nothing", "")
	if gotKey != "K" || gotSecret != "S" {
		t.Fatalf("key/secret = %q/%q", gotKey, gotSecret)
	}
	var tv tokenView
	json.Unmarshal(out.Response, &tv)
	if tv != (tokenView{AccessToken: "abc", Now: testNow.Unix(), ExpiredAt: testNow.Add(30 * time.Minute).Unix()}) {
		t.Fatalf("token view %+v", tv)
	}
	expect(t, e, "POST", "/users/getToken/", ctJSON, `{"imp_key":"K","imp_secret":"S"}`, 200, 0, "", "X-Nothing", "")
	expect(t, e, "POST", "/users/getToken", ctJSON, `{}`, 400, -1, msgMissingKeys, "X-Nothing", "")
	expect(t, e, "POST", "/users/getToken", "", "", 400, -1, msgMissingKeys, "X-Nothing", "")
	expect(t, e, "POST", "/users/getToken", ctJSON, `{"imp_key":"K","imp_secret":"nope"}`, 401, -1, msgBadCredentials, "X-Nothing", "")
	expect(t, e, "POST", "/users/getToken", ctJSON, `{"imp_key":`, 400, -1, "JSON", "X-Nothing", "")
}

func TestTransportQuirks(t *testing.T) {
	var got charge.CancelInput
	f := &fakeService{
		cancel:  func(in charge.CancelInput) (*core.Payment, error) { got = in; p := paidPayment(); return &p, nil },
		onetime: func(charge.PayInput) (*core.Payment, error) { panic("boom") },
	}
	e := newFake(t, f)
	// PHP posts to trailing-slash paths; a redirect would turn it into GET.
	expect(t, e, "POST", "/payments/cancel/", ctJSON, `{"imp_uid":"imp_1"}`, 200, 0, "")
	if got.ImpUID != "imp_1" {
		t.Fatalf("cancel input %+v", got)
	}
	expect(t, e, "GET", "/nope", "", "", 404, -1, "API")
	expect(t, e, "DELETE", "/payments/cancel", "", "", 405, -1, "메서드")
	big := "reason=" + strings.Repeat("x", 5000)
	expect(t, e, "POST", "/payments/cancel", ctForm, big, 413, -1, "너무 큽니다")
	// A streamed body without Content-Length is capped too.
	req := httptestChunked(t, e, big)
	if req.Code != 413 {
		t.Fatalf("chunked oversized body: %d %s", req.Code, req.Body.String())
	}
	expect(t, e, "POST", "/subscribe/payments/onetime", ctJSON, `{"merchant_uid":"m","amount":1,"card_number":"4242424242424242","expiry":"2030-01"}`, 500, -1, msgInternal)
}

func TestMetricsByRoutePattern(t *testing.T) {
	e := newFake(t, &fakeService{getPayment: func(id string) (*core.Payment, error) {
		if id == "imp_ok" {
			p := paidPayment()
			return &p, nil
		}
		return nil, charge.ErrPaymentNotFound
	}})
	e.do(t, "GET", "/payments/imp_ok", "", "")
	e.do(t, "GET", "/payments/imp_1", "", "")
	e.do(t, "GET", "/payments/imp_2", "", "")
	e.do(t, "GET", "/nope", "", "")
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "billkey_iamport_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			counts[l["route"]+" "+l["method"]+" "+l["status"]+" "+l["code"]] = m.GetCounter().GetValue()
		}
	}
	// The envelope code is a label too.
	want := map[string]float64{"/payments/{imp_uid} GET 200 0": 1, "/payments/{imp_uid} GET 404 -1": 2, "unmatched GET 404 -1": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("counters %v, want %v", counts, want)
	}
	// A second handler on the same registry shares the collectors.
	newHandler(&fakeService{}, &fakeService{}, Options{Registerer: e.reg})
}

func TestOnetimeParsing(t *testing.T) {
	var got charge.PayInput
	declined := paidPayment()
	declined.Status, declined.PaidAt, declined.FailedAt, declined.FailReason = core.StatusFailed, time.Time{}, t1, "잔액부족"
	e := newFake(t, &fakeService{onetime: func(in charge.PayInput) (*core.Payment, error) { got = in; return &declined, nil }})

	// A decline is a successful request: code 0, status failed.
	out := expect(t, e, "POST", "/subscribe/payments/onetime", ctForm,
		"merchant_uid=m1& amount=1000&card_number=4242-4242 4242-4242&expiry=2030-01&birth=900101&pwd_2digit=12"+
			"&custom_data[plan]=pro&card_quota=0&interest_free_by_merchant=False&use_card_point=false&customer_uid=c1"+
			"&buyer_name=%ED%99%8D&vat=100", 200, 0, "")
	var pv map[string]any
	json.Unmarshal(out.Response, &pv)
	if pv["status"] != "failed" || pv["fail_reason"] != "잔액부족" {
		t.Fatalf("decline view %v", pv)
	}
	if got.Card == nil || got.Card.Number != "4242424242424242" || got.Card.Expiry != "2030-01" || got.Card.Birth != "900101" {
		t.Fatalf("card %+v", got.Card)
	}
	if got.MerchantUID != "m1" || got.Amount != 1000 || got.Currency != "KRW" || got.CustomerUID != "c1" ||
		got.Channel != "api" || got.Buyer.Name != "홍" || got.VatAmount == nil || *got.VatAmount != 100 {
		t.Fatalf("input %+v", got)
	}
	if got.CustomData == nil || *got.CustomData != `{"plan":"pro"}` {
		t.Fatalf("custom_data %v", got.CustomData)
	}

	// JSON with a USD decimal amount and an object custom_data.
	expect(t, e, "POST", "/subscribe/payments/onetime", ctJSON,
		`{"merchant_uid":"m2","amount":10.5,"currency":"usd","card_number":"4242424242424242","expiry":"203001","custom_data":{"a":[1,2]},"notice_url":["https://n/1"]}`, 200, 0, "")
	if got.Amount != 1050 || got.Currency != "USD" || *got.CustomData != `{"a":[1,2]}` || got.NoticeURL != "https://n/1" || got.Card.Expiry != "203001" {
		t.Fatalf("json input %+v", got)
	}

	bad := []struct{ body, msg string }{
		{`{"amount":1000,"card_number":"4242424242424242","expiry":"2030-01"}`, "merchant_uid 파라메터가 누락"},
		{`{"merchant_uid":"m","card_number":"4242424242424242","expiry":"2030-01"}`, "amount 파라메터가 누락"},
		{`{"merchant_uid":"m","amount":1000,"expiry":"2030-01"}`, "card_number"},
		{`{"merchant_uid":"` + strings.Repeat("m", 41) + `","amount":1000,"card_number":"4","expiry":"2030-01"}`, "merchant_uid 파라메터는 최대 40자"},
		{`{"merchant_uid":"m","amount":10.5,"card_number":"4","expiry":"2030-01"}`, "amount"},
		{`{"merchant_uid":"m","amount":"abc","card_number":"4","expiry":"2030-01"}`, "amount"},
		{`{"merchant_uid":"m","amount":1,"currency":"XXY","card_number":"4","expiry":"2030-01"}`, "currency"},
		{`{"merchant_uid":"m","amount":1,"card_number":"4","expiry":"2030-01","card_quota":"three"}`, "card_quota"},
		{`{"merchant_uid":"m","amount":1,"card_number":"4","expiry":"2030-01","buyer_name":"` + strings.Repeat("가", 17) + `"}`, "buyer_name 파라메터는 최대 16자"},
		{`{"merchant_uid":"m","amount":1,"card_number":"4","expiry":"2030-01","use_card_point":"maybe"}`, "use_card_point"},
		{`{"merchant_uid":{"x":1},"amount":1,"card_number":"4","expiry":"2030-01"}`, "merchant_uid"},
	}
	for _, b := range bad {
		expect(t, e, "POST", "/subscribe/payments/onetime", ctJSON, b.body, 400, -1, b.msg)
	}
}

func TestAgainJavaDefaultsAndErrors(t *testing.T) {
	var got charge.PayInput
	var err error
	e := newFake(t, &fakeService{again: func(in charge.PayInput) (*core.Payment, error) {
		got = in
		if err != nil {
			return nil, err
		}
		p := paidPayment()
		return &p, nil
	}})
	// The Java client's primitive defaults mean "unset".
	java := `{"customer_uid":"c1","merchant_uid":"m1","amount":8900,"card_quota":0,"product_count":0,"interest_free_by_merchant":false,"use_card_point":false,"extra":{"naverUseCfm":"20240101"}}`
	expect(t, e, "POST", "/subscribe/payments/again", ctJSON, java, 200, 0, "")
	if got.CustomerUID != "c1" || got.CardQuota != 0 || got.Card != nil || got.Name != "" {
		t.Fatalf("again input %+v", got)
	}
	expect(t, e, "POST", "/subscribe/payments/again", ctJSON, `{"merchant_uid":"m1","amount":1}`, 400, -1, "customer_uid")

	cases := []struct {
		err    error
		status int
		code   int
		msg    string
	}{
		{charge.ErrCustomerNotFound, 200, 1, msgUnknownCustomer},
		{&charge.DuplicateOrderError{Existing: &core.Payment{}}, 200, 1, msgDuplicateOrder},
		{&charge.InProgressError{Existing: &core.Payment{}}, 200, 1, "진행 중"},
		{&charge.ValidationError{Field: "amount", Reason: "must be positive"}, 400, -1, "amount"},
	}
	for _, c := range cases {
		err = c.err
		expect(t, e, "POST", "/subscribe/payments/again", ctForm, "customer_uid=c1&merchant_uid=m1&amount=1000", c.status, c.code, c.msg)
	}
	// An unknown outcome is not an error: the payment shows as ready.
	err = nil
	e2 := newFake(t, &fakeService{again: func(charge.PayInput) (*core.Payment, error) {
		p := paidPayment()
		p.Status, p.PaidAt = core.StatusUnknown, time.Time{}
		return &p, nil
	}})
	out := expect(t, e2, "POST", "/subscribe/payments/again", ctJSON, `{"customer_uid":"c1","merchant_uid":"m1","amount":1}`, 200, 0, "")
	if !strings.Contains(string(out.Response), `"status":"ready"`) {
		t.Fatalf("unknown outcome view %s", out.Response)
	}
}

func TestCustomers(t *testing.T) {
	key := func(uid string) core.BillingKey {
		return core.BillingKey{CustomerUID: uid, PGProvider: "nice", PGID: "mid"}
	}
	var issued charge.IssueKeyInput
	var deletedReason string
	f := &fakeService{
		issueKey: func(in charge.IssueKeyInput) (*core.BillingKey, error) {
			issued = in
			if in.Card.Number == "4000000000000002" {
				return nil, &charge.PGRefusedError{Stage: "issue", Err: nil}
			}
			k := key(in.CustomerUID)
			return &k, nil
		},
		getKey: func(uid string) (*core.BillingKey, error) {
			if uid == "a/b" || uid == "c1" {
				k := key(uid)
				return &k, nil
			}
			return nil, charge.ErrCustomerNotFound
		},
		getKeys: func(uids []string) ([]core.BillingKey, error) {
			var out []core.BillingKey
			for _, u := range uids {
				if strings.HasPrefix(u, "c") {
					out = append(out, key(u))
				}
			}
			return out, nil
		},
		deleteKey: func(uid, reason string) (*core.BillingKey, error) {
			deletedReason = reason
			if uid != "c1" {
				return nil, charge.ErrCustomerNotFound
			}
			k := key(uid)
			return &k, nil
		},
		list: func(q core.PaymentQuery) (core.PaymentPage, error) {
			if q.CustomerUID != "c1" || q.Limit != 20 || q.Page != 2 {
				t.Errorf("customer payments query %+v", q)
			}
			return core.PaymentPage{Pager: core.Pager{Total: 41}, Payments: []core.Payment{paidPayment()}}, nil
		},
	}
	e := newFake(t, f)
	expect(t, e, "POST", "/subscribe/customers/c1", ctForm, "card_number=4242-4242-4242-4242&expiry=2030-01&customer_name=홍길동&pg=nice.mid", 200, 0, "")
	if issued.CustomerUID != "c1" || issued.Card.Number != "4242424242424242" || issued.PG != "nice.mid" || issued.Customer.Name != "홍길동" {
		t.Fatalf("issue input %+v", issued)
	}
	expect(t, e, "POST", "/subscribe/customers/c1", ctJSON, `{"card_number":"4000000000000002","expiry":"2030-01"}`, 200, -1, "카드정보 인증 및 빌키 발급에 실패하였습니다.")
	expect(t, e, "POST", "/subscribe/customers/"+strings.Repeat("c", 81), ctJSON, `{"card_number":"4","expiry":"2030-01"}`, 400, -1, "최대 80자")
	expect(t, e, "POST", "/subscribe/customers/c1", ctJSON, `{"card_number":"4","expiry":"2030-01","customer_tel":"`+strings.Repeat("1", 21)+`"}`, 400, -1, "customer_tel")

	expect(t, e, "GET", "/subscribe/customers/a%2Fb", "", "", 200, 0, "")
	expect(t, e, "GET", "/subscribe/customers/zz", "", "", 404, 1, "요청하신 customer_uid(zz)로 등록된 정보를 찾을 수 없습니다.")
	expect(t, e, "DELETE", "/subscribe/customers/c1?reason=bye&extra[requester]=admin", "", "", 200, 0, "")
	if deletedReason != "bye" {
		t.Fatalf("reason %q", deletedReason)
	}
	expect(t, e, "DELETE", "/subscribe/customers/zz", "", "", 404, 1, "customer_uid(zz)")

	for _, q := range []string{"customer_uid[]=c1&customer_uid[]=c2", "customer_uid%5B0%5D=c1&customer_uid%5B1%5D=c2", "customer_uid=c1&customer_uid=c2"} {
		out := expect(t, e, "GET", "/subscribe/customers?"+q, "", "", 200, 0, "")
		var list []customerView
		json.Unmarshal(out.Response, &list)
		if len(list) != 2 || list[1].CustomerUID != "c2" {
			t.Fatalf("%s: %s", q, out.Response)
		}
	}
	expect(t, e, "GET", "/subscribe/customers?customer_uid[]=c1&customer_uid[]=x1", "", "", 207, 0, "")
	expect(t, e, "GET", "/subscribe/customers?customer_uid[]=x1", "", "", 404, 1, "customer_uid")
	expect(t, e, "GET", "/subscribe/customers", "", "", 400, -1, "customer_uid")

	out := expect(t, e, "GET", "/subscribe/customers/c1/payments?page=2", "", "", 200, 0, "")
	var pv paged[paymentView]
	json.Unmarshal(out.Response, &pv)
	if pv.Total != 41 || pv.Previous != 1 || pv.Next != 3 || len(pv.List) != 1 {
		t.Fatalf("paged %+v", pv)
	}
	expect(t, e, "GET", "/subscribe/customers/zz/payments", "", "", 404, 1, "customer_uid(zz)")
	expect(t, e, "GET", "/subscribe/customers/c1/payments?page=0", "", "", 400, -1, "page")
}

func TestPaymentLookups(t *testing.T) {
	var lastQuery core.PaymentQuery
	var findArgs []string
	f := &fakeService{
		getPayment: func(id string) (*core.Payment, error) {
			if id == "imp_1" {
				p := paidPayment()
				return &p, nil
			}
			return nil, charge.ErrPaymentNotFound
		},
		findPayment: func(mu, status, sorting string) (*core.Payment, error) {
			findArgs = []string{mu, status, sorting}
			p := paidPayment()
			return &p, nil
		},
		getPayments: func(imps, mus []string) ([]core.Payment, int, error) {
			var out []core.Payment
			missing := 0
			for _, id := range append(append([]string{}, imps...), mus...) {
				if strings.HasSuffix(id, "1") {
					out = append(out, paidPayment())
				} else {
					missing++
				}
			}
			return out, missing, nil
		},
		list: func(q core.PaymentQuery) (core.PaymentPage, error) {
			lastQuery = q
			if q.MerchantUID == "none" {
				return core.PaymentPage{Pager: core.Pager{Page: q.Page, Limit: q.Limit}}, nil
			}
			return core.PaymentPage{Pager: core.Pager{Total: 1, Page: q.Page, Limit: q.Limit}, Payments: []core.Payment{paidPayment()}}, nil
		},
	}
	e := newFake(t, f)
	expect(t, e, "GET", "/payments/imp_1?include_sandbox=true", "", "", 200, 0, "")
	expect(t, e, "GET", "/payments/imp_9", "", "", 404, -1, msgPaymentNotFound)

	expect(t, e, "GET", "/payments?imp_uid[]=imp_1&merchant_uid[]=m1", "", "", 200, 0, "")
	expect(t, e, "GET", "/payments?imp_uid%5B0%5D=imp_1&imp_uid%5B1%5D=imp_2", "", "", 207, 0, "")
	expect(t, e, "GET", "/payments?merchant_uid=m2&merchant_uid=m3", "", "", 404, -1, msgPaymentNotFound)
	expect(t, e, "GET", "/payments", "", "", 400, -1, "imp_uid")
	many := strings.Repeat("imp_uid[]=x&", 60) + strings.Repeat("merchant_uid[]=y&", 1)
	// Duplicates do not count against the 100-id cap.
	expect(t, e, "GET", "/payments?"+many, "", "", 404, -1, msgPaymentNotFound)
	var ids []string
	for i := 0; i < 101; i++ {
		ids = append(ids, "imp_uid[]=imp_"+strings.Repeat("0", 3)+string(rune('a'+i%26))+strings.Repeat("z", i/26))
	}
	expect(t, e, "GET", "/payments?"+strings.Join(ids, "&"), "", "", 400, -1, "100")

	expect(t, e, "GET", "/payments/find/m1/", "", "", 200, 0, "")
	if !reflect.DeepEqual(findArgs, []string{"m1", "", "-started"}) {
		t.Fatalf("find args %v", findArgs)
	}
	expect(t, e, "GET", "/payments/find/m%2F1/paid?sorting=-paid", "", "", 200, 0, "")
	if !reflect.DeepEqual(findArgs, []string{"m/1", "paid", "-paid"}) {
		t.Fatalf("find args %v", findArgs)
	}
	expect(t, e, "GET", "/payments/find/m1/weird", "", "", 400, -1, msgBadStatus)
	expect(t, e, "GET", "/payments/find/m1?sorting=newest", "", "", 400, -1, "sorting")

	expect(t, e, "GET", "/payments/findAll/m1?page=2&limit=5", "", "", 200, 0, "")
	if lastQuery.MerchantUID != "m1" || lastQuery.Page != 2 || lastQuery.Limit != 5 || lastQuery.Sorting != "-started" {
		t.Fatalf("findAll query %+v", lastQuery)
	}
	expect(t, e, "GET", "/payments/findAll/m1/cancelled", "", "", 200, 0, "")
	if lastQuery.Status != "cancelled" || lastQuery.Limit != 20 || lastQuery.Page != 1 {
		t.Fatalf("findAll query %+v", lastQuery)
	}
	expect(t, e, "GET", "/payments/findAll/m1?limit=1001", "", "", 400, -1, "limit")
	expect(t, e, "GET", "/payments/findAll/none", "", "", 404, -1, msgPaymentNotFound)

	expect(t, e, "GET", "/payments/status/paid", "", "", 200, 0, "")
	// The default window ends after the current second (its end is exclusive).
	wantTo := testNow.Truncate(time.Second).Add(time.Second)
	if lastQuery.Status != "paid" || lastQuery.TimeField != "paid" || !lastQuery.To.Equal(wantTo) || !lastQuery.From.Equal(wantTo.Add(-90*24*time.Hour)) {
		t.Fatalf("status query %+v", lastQuery)
	}
	out := expect(t, e, "GET", "/payments/status/all?from=1700000000&to=1700086400&page=1&limit=1000", "", "", 200, 0, "")
	if lastQuery.Status != "" || lastQuery.From.Unix() != 1700000000 || lastQuery.To.Unix() != 1700086400 || lastQuery.Limit != 1000 {
		t.Fatalf("status query %+v", lastQuery)
	}
	if !strings.Contains(string(out.Response), `"list":[`) {
		t.Fatalf("paged shape %s", out.Response)
	}
	expect(t, e, "GET", "/payments/status/none", "", "", 400, -1, msgBadStatus)
	expect(t, e, "GET", "/payments/status/paid?from=1600000000&to=1700000000", "", "", 400, -1, "90일")
	expect(t, e, "GET", "/payments/status/paid?from=1700000000&to=1600000000", "", "", 400, -1, "from")
}

func httptestChunked(t *testing.T, e fakeEnv, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/payments/cancel", io.NopCloser(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", ctForm)
	req.Header.Set("Authorization", testToken)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func TestCancel(t *testing.T) {
	var got charge.CancelInput
	var cancelErr error
	usd := paidPayment()
	usd.Currency, usd.Amount = "USD", 1050
	f := &fakeService{
		getPayment: func(id string) (*core.Payment, error) {
			if id == "imp_usd" {
				return &usd, nil
			}
			return nil, charge.ErrPaymentNotFound
		},
		findPayment: func(mu, status, sorting string) (*core.Payment, error) {
			if mu == "m_partial" && status == "cancelled" {
				return &usd, nil
			}
			return nil, charge.ErrPaymentNotFound
		},
		cancel: func(in charge.CancelInput) (*core.Payment, error) {
			got = in
			if cancelErr != nil {
				return nil, cancelErr
			}
			p := usd
			return &p, nil
		},
	}
	e := newFake(t, f)
	// Full refund: no amounts means no currency lookup at all.
	expect(t, e, "POST", "/payments/cancel", ctForm, "merchant_uid=m1&reason=%EB%B6%88%EB%A7%8C&enable_webhook=True", 200, 0, "")
	if got.MerchantUID != "m1" || got.Amount != nil || got.Checksum != nil || got.Reason != "불만" || !got.EnableWebhook {
		t.Fatalf("cancel input %+v", got)
	}
	// Amounts are read in the payment's currency; 0 means full.
	expect(t, e, "POST", "/payments/cancel", ctJSON, `{"imp_uid":"imp_usd","merchant_uid":"ignored","amount":3.5,"checksum":10.5,"tax_free":0}`, 200, 0, "")
	if got.ImpUID != "imp_usd" || got.Amount == nil || *got.Amount != 350 || got.Checksum == nil || *got.Checksum != 1050 {
		t.Fatalf("cancel input %+v", got)
	}
	expect(t, e, "POST", "/payments/cancel", ctJSON, `{"imp_uid":"imp_usd","amount":0,"checksum":0}`, 200, 0, "")
	if got.Amount != nil || got.Checksum == nil || *got.Checksum != 0 {
		t.Fatalf("zero amount must mean full, zero checksum must be kept: %+v", got)
	}
	expect(t, e, "POST", "/payments/cancel", ctJSON, `{"merchant_uid":"m_partial","amount":"1.25"}`, 200, 0, "")
	if *got.Amount != 125 {
		t.Fatalf("amount %d", *got.Amount)
	}
	expect(t, e, "POST", "/payments/cancel", ctJSON, `{"imp_uid":"imp_usd","amount":1.234}`, 400, -1, "amount")
	expect(t, e, "POST", "/payments/cancel", ctJSON, `{"imp_uid":"imp_gone","amount":100}`, 200, 1, msgNothingToCancel)
	expect(t, e, "POST", "/payments/cancel", ctJSON, `{"reason":"x"}`, 400, -1, "지정해주셔야합니다.")

	for _, c := range []struct {
		err  error
		code int
		msg  string
	}{
		{charge.ErrNothingToCancel, 1, msgNothingToCancel},
		{charge.ErrPaymentNotFound, 1, msgNothingToCancel},
		{charge.ErrChecksumMismatch, 1, "checksum"},
		{charge.ErrCancelExceeds, 1, "초과"},
	} {
		cancelErr = c.err
		expect(t, e, "POST", "/payments/cancel", ctJSON, `{"imp_uid":"imp_x"}`, 200, c.code, c.msg)
	}
}

func TestPrepare(t *testing.T) {
	var args []any
	e := newFake(t, &fakeService{
		prepare: func(mu string, a int64, c string, u bool) (*core.Prepared, error) {
			args = []any{mu, a, c, u}
			if mu == "dup" {
				return nil, charge.ErrPrepareExists
			}
			return &core.Prepared{MerchantUID: mu, Amount: a, Currency: c}, nil
		},
		getPrepared: func(mu string) (*core.Prepared, error) { return nil, charge.ErrPrepareNotFound },
	})
	out := expect(t, e, "POST", "/payments/prepare", ctForm, "merchant_uid=m1&amount=1000", 200, 0, "")
	if string(out.Response) != `{"merchant_uid":"m1","amount":1000,"currency":"KRW"}` || !reflect.DeepEqual(args, []any{"m1", int64(1000), "KRW", false}) {
		t.Fatalf("prepare %s %v", out.Response, args)
	}
	expect(t, e, "PUT", "/payments/prepare", ctJSON, `{"merchant_uid":"m1","amount":"9.99","currency":"USD"}`, 200, 0, "")
	if !reflect.DeepEqual(args, []any{"m1", int64(999), "USD", true}) {
		t.Fatalf("update args %v", args)
	}
	expect(t, e, "POST", "/payments/prepare", ctJSON, `{"merchant_uid":"dup","amount":1}`, 200, 1, "이미 사전등록된")
	expect(t, e, "POST", "/payments/prepare", ctJSON, `{"merchant_uid":"m1"}`, 400, -1, "amount")
	expect(t, e, "GET", "/payments/prepare/m1", "", "", 404, 1, msgPrepareNotFound)
}
