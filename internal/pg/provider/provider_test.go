package provider

import "testing"

func TestSandboxChannelsMatchCapabilities(t *testing.T) {
	t.Parallel()
	chans := SandboxChannels()
	if len(chans) == 0 || chans[0].Window {
		t.Fatalf("the default (first) sandbox channel must be a REST contract: %+v", chans)
	}
	for _, c := range chans {
		p, ok := Lookup(c.Provider)
		if !ok {
			t.Errorf("sandbox channel %s.%s: provider not in the catalog", c.Provider, c.MID)
			continue
		}
		if c.Window && len(p.Window) == 0 {
			t.Errorf("window channel %s.%s: %s has no billing window", c.Provider, c.MID, p.Provider)
		}
		if !c.Window && !p.RESTKeyIn && !p.RESTIssueWithCharge {
			t.Errorf("REST channel %s.%s: %s issues no keys over REST", c.Provider, c.MID, p.Provider)
		}
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	t.Parallel()
	p, _ := Lookup("kakaopay")
	p.Window[0] = "changed"
	if q, _ := Lookup("kakaopay"); q.Window[0] == "changed" {
		t.Error("Lookup shares the catalog's slices")
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("unknown code found")
	}
	if len(All()) != len(catalog) {
		t.Errorf("All lists %d of %d", len(All()), len(catalog))
	}
}

func TestFitName(t *testing.T) {
	t.Parallel()
	nice, _ := Lookup("nice")
	tests := []struct{ name, want string }{
		{"short", "short"},
		{"가나다라마바사아자차카타파하가나다라마바사", "가나다라마바사아자차카타파하가나다라마바"},
		{"a가나다라마바사아자차카타파하가나다라마바사", "a가나다라마바사아자차카타파하가나다라마"},
	}
	for _, tt := range tests {
		if got := nice.FitName(tt.name); got != tt.want {
			t.Errorf("FitName(%q) = %q (%d bytes), want %q", tt.name, got, NameBytes(got), tt.want)
		}
	}
}
