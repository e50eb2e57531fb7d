package provider

// SandboxChannel is a sandbox PG contract every new merchant starts with.
type SandboxChannel struct {
	Provider string // a catalog code
	MID      string
	Name     string // the channel's display name
	// Window: a payment-window contract (i'mport channel type "payment");
	// otherwise a REST key-in contract ("api_payment").
	Window bool
}

// SandboxChannels lists the sandbox contracts of a new merchant: the REST
// key-in PGs first (the first is the merchant's default), then the
// payment-window PGs.
func SandboxChannels() []SandboxChannel {
	return []SandboxChannel{
		{"nice", "nictest04m", "NICE 정기결제 (sandbox)", false},
		{"kcp", "T0000", "KCP 정기결제 (sandbox)", false},
		{"html5_inicis", "INIBillTst", "KG이니시스 빌링 (sandbox)", false},
		{"jtnet", "tjtnet001", "JTNet 빌링 (sandbox)", false},
		{"settle", "M2345678", "세틀뱅크 빌링 (sandbox)", false},
		{"daou", "CTS16826", "페이조아 빌링 (sandbox)", false},
		{"paymentwall", "pw_test", "Paymentwall (sandbox)", false},
		// Provider codes as i'mport defines them: danal_tpay is Danal's card
		// window, danal its phone billing, kcp_billing KCP's billing window.
		{"danal_tpay", "A010002002", "다날 신용카드 (sandbox)", true},
		{"danal", "9810030929", "다날 휴대폰 (sandbox)", true},
		{"kicc", "T5102001", "KICC (sandbox)", true},
		{"payco", "PARTNERTEST", "페이코 (sandbox)", true},
		{"kakaopay", "TCSUBSCRIP", "카카오페이 정기 (sandbox)", true},
		{"naverpay", "np_test", "네이버페이 (sandbox)", true},
		{"mobilians", "170622040674", "모빌리언스 휴대폰 (sandbox)", true},
		{"chai", "chai_test", "차이 계좌 (sandbox)", true},
		{"kcp_billing", "T0001", "KCP 빌링 결제창 (sandbox)", true},
		{"html5_inicis", "INIpayTest", "KG이니시스 결제창 (sandbox)", true},
		{"inicis", "INIpayTest", "KG이니시스 ActiveX 결제창 (sandbox)", true},
		{"jtnet", "tpaytest2m", "JTNet 결제창 (sandbox)", true},
		{"paymentwall", "pw_test", "Paymentwall 결제창 (sandbox)", true},
	}
}
