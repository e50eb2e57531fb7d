package console

import (
	"net/http"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
)

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{0, "KRW", "0원"},
		{999, "KRW", "999원"},
		{1000, "KRW", "1,000원"},
		{1234567, "KRW", "1,234,567원"},
		{-2500, "KRW", "-2,500원"},
		{1050, "USD", "10.50 USD"},
		{1000, "USD", "10.00 USD"},
		{123456789, "USD", "1,234,567.89 USD"},
	} {
		if got := formatAmount(tc.minor, tc.currency); got != tc.want {
			t.Errorf("formatAmount(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		paid, failed int
		want         string
	}{{0, 0, "—"}, {3, 0, "100%"}, {1, 1, "50%"}, {2, 1, "66.7%"}, {1, 2, "33.3%"}, {999, 1, "99.9%"}} {
		if got := rate(tc.paid, tc.failed); got != tc.want {
			t.Errorf("rate(%d, %d) = %q, want %q", tc.paid, tc.failed, got, tc.want)
		}
	}
}

func TestCalendar(t *testing.T) {
	t.Parallel()
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-01 is a Sunday: the grid starts on Monday 2026-02-23.
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, seoul)
	list := []core.Schedule{
		{MerchantUID: "a", ScheduleAt: time.Date(2026, 3, 10, 23, 30, 0, 0, seoul), Amount: 1000, Currency: "KRW"},
		// 15:30 UTC is already the 11th in Seoul.
		{MerchantUID: "b", ScheduleAt: time.Date(2026, 3, 10, 15, 30, 0, 0, time.UTC), Amount: 2000, Currency: "KRW"},
		{MerchantUID: "c", ScheduleAt: time.Date(2026, 3, 11, 9, 0, 0, 0, seoul), Amount: 500, Currency: "USD"},
	}
	weeks, month := calendar(now, list)
	if month != "2026-03" || len(weeks) != 6 {
		t.Fatalf("month %s, %d weeks", month, len(weeks))
	}
	if first := weeks[0][0]; first.Date.Format("2006-01-02") != "2026-02-23" || !first.Other {
		t.Fatalf("first cell %v other=%v", first.Date, first.Other)
	}
	tue, wed := weeks[2][1], weeks[2][2]
	if tue.Day != 10 || !tue.Today || tue.Count != 1 || tue.Amount != 1000 {
		t.Errorf("March 10: %+v", tue)
	}
	if wed.Day != 11 || wed.Count != 2 || wed.Amount != 2000 {
		t.Errorf("March 11 (a USD entry counted, not added to won): %+v", wed)
	}
}

func TestCSVCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"=1+1": "'=1+1", "+82": "'+82", "-3": "'-3", "@x": "'@x", "order_1": "order_1", "": ""} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{"127.0.0.1:8080": false, "localhost:8080": false, "[::1]:8080": false,
		"billing.example.com": true, "10.0.0.5:8080": true} {
		r := &http.Request{Host: host}
		if got := secureCookies(r); got != want {
			t.Errorf("secureCookies(%s) = %v, want %v", host, got, want)
		}
	}
}
