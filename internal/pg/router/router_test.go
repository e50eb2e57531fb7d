package router

import (
	"strings"
	"testing"
)

// Each listed processor decides its own credentials and builds its own
// connector: the router holds no per-provider code.
func TestProcessorsValidateAndBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider string
		creds    Credentials
		sandbox  bool
		live     bool
		err      string
	}{
		{"iamport", Credentials{ImpKey: "k", ImpSecret: "s"}, true, false, ""},
		{"iamport", Credentials{ImpKey: "k", ImpSecret: "s"}, false, true, ""},
		{"iamport", Credentials{ImpKey: "k"}, true, false, "needs --imp-key"},
		{"tosspayments", Credentials{SecretKey: "test_sk_x"}, true, false, ""},
		{"tosspayments", Credentials{SecretKey: "live_sk_x"}, false, true, ""},
		{"tosspayments", Credentials{SecretKey: "live_sk_x"}, true, true, "a live key on a sandbox channel"},
		{"tosspayments", Credentials{SecretKey: "test_ck_x"}, true, false, "needs --secret-key"},
		{"stripe", Credentials{SecretKey: "sk_test_x"}, true, false, ""},
		{"stripe", Credentials{SecretKey: "sk_test_x"}, false, false, "a test key on a live channel"},
		{"nice", Credentials{}, true, false, "not a processor"},
	} {
		live, err := Validate(tc.provider, tc.creds, tc.sandbox)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) || (err == nil && live != tc.live) {
			t.Errorf("Validate(%s, %+v, sandbox=%v) = %v, %v; want live=%v err~%q", tc.provider, tc.creds, tc.sandbox, live, err, tc.live, tc.err)
		}
	}
	if strings.Join(Processors, ",") != "iamport,tosspayments,stripe" {
		t.Errorf("Processors %v", Processors)
	}
	for _, name := range Processors {
		c, err := build(name, &Channel{Creds: Credentials{ImpKey: "k", ImpSecret: "s", SecretKey: "sk_test_x"}}, 0)
		if err != nil || c == nil {
			t.Errorf("build %s: %v %v", name, c, err)
		}
	}
	if _, err := build("nice", &Channel{}, 0); err == nil {
		t.Error("built a connector for a sandbox PG")
	}
}
