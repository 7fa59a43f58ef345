package tenant

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeKeywords(t *testing.T) {
	t.Parallel()
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("keyword %03d", i)
		}
		return out
	}
	tests := []struct {
		name  string
		in    []string
		want  []string
		field string   // expected error field, "" for success
		parts []string // expected in the message
	}{
		{name: "OK", in: []string{"casino", "crypto"}, want: []string{"casino", "crypto"}},
		{name: "OKEmptyList", in: []string{}, want: []string{}},
		{name: "OKTrimmed", in: []string{"  casino\t", "\ncrypto "}, want: []string{"casino", "crypto"}},
		{name: "OKDuplicatesKeepFirstSpelling", in: []string{"Casino", "crypto", "CASINO", " casino "}, want: []string{"Casino", "crypto"}},
		{name: "OKUnicodeCaseFolding", in: []string{"Straße", "STRASSE", "ÉTÉ", "été"}, want: []string{"Straße", "STRASSE", "ÉTÉ"}},
		{name: "OKInnerSpaces", in: []string{"online casino"}, want: []string{"online casino"}},
		{name: "OKMaxLength", in: []string{strings.Repeat("é", 100)}, want: []string{strings.Repeat("é", 100)}},
		{name: "OKMaxCount", in: many(500), want: many(500)},
		{name: "OKMaxCountAfterDedup", in: append(many(500), many(500)...), want: many(500)},
		{name: "ErrKeywordEmpty", in: []string{"casino", "crypto", "gambling", "   "}, field: "keywords[3]", parts: []string{"keywords[3] is empty", "1 to 100"}},
		{name: "ErrKeywordEmptyString", in: []string{""}, field: "keywords[0]", parts: []string{"keywords[0] is empty"}},
		{name: "ErrKeywordTooLong", in: []string{"ok", strings.Repeat("a", 101)}, field: "keywords[1]", parts: []string{"101 characters", "1 to 100"}},
		{name: "ErrKeywordTooLongRunes", in: []string{strings.Repeat("é", 101)}, field: "keywords[0]", parts: []string{"101 characters"}},
		{name: "ErrKeywordControl", in: []string{"bad\nword"}, field: "keywords[0]", parts: []string{"control characters"}},
		{name: "ErrTooManyKeywords", in: many(501), field: "keywords", parts: []string{"at most 500", "got 501"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeKeywords("keywords", tt.in)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.parts...)
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("NormalizeKeywords = %d keywords %.200q, %v; want %d %.200q", len(got), got, err, len(tt.want), tt.want)
			}
		})
	}
}

func TestIndustriesInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		allowed, blocked     []IndustryCode
		wantAllowed, wantBlk []IndustryCode
		field                string
		parts                []string
	}{
		{name: "OK", allowed: []IndustryCode{"52", "54"}, blocked: []IndustryCode{"71"}, wantAllowed: []IndustryCode{"52", "54"}, wantBlk: []IndustryCode{"71"}},
		{name: "OKEmpty", allowed: nil, blocked: nil, wantAllowed: []IndustryCode{}, wantBlk: []IndustryCode{}},
		{name: "OKDuplicatesRemoved", allowed: []IndustryCode{"52", "31-33", "52"}, blocked: []IndustryCode{"71", "71"}, wantAllowed: []IndustryCode{"52", "31-33"}, wantBlk: []IndustryCode{"71"}},
		{name: "ErrIndustryInBoth", allowed: []IndustryCode{"52", "71"}, blocked: []IndustryCode{"92", "71"}, field: "blocked[1]",
			parts: []string{"71 (Arts, Entertainment, and Recreation)", "both allowed and blocked"}},
		{name: "OKAnyLevel", allowed: []IndustryCode{"71", "52"}, blocked: []IndustryCode{"713210", "7132", "31-33", "311111"},
			wantAllowed: []IndustryCode{"71", "52"}, wantBlk: []IndustryCode{"713210", "7132", "31-33", "311111"}},
		{name: "ErrIndustryUnknownAllowed", allowed: []IndustryCode{"52", "99"}, field: "allowed[1]", parts: []string{`"99"`, "industryCatalog", "2 to 6 digits"}},
		{name: "ErrIndustryUnknownBlocked", blocked: []IndustryCode{"FINANCE"}, field: "blocked[0]", parts: []string{`"FINANCE"`, "NAICS 2022"}},
		{name: "ErrIndustrySevenDigits", blocked: []IndustryCode{"7132101"}, field: "blocked[0]", parts: []string{`"7132101"`, "2 to 6 digits"}},
		{name: "ErrIndustryNot2022", blocked: []IndustryCode{"452210"}, field: "blocked[0]", parts: []string{`"452210"`, "not a NAICS 2022 code"}}, // a 2017 code
		{name: "ErrIndustryRangePart", blocked: []IndustryCode{"31"}, field: "blocked[0]", parts: []string{"31-33"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := IndustriesInput{Allowed: tt.allowed, Blocked: tt.blocked}
			err := in.Normalize()
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.parts...)
				return
			}
			if err != nil || !slices.Equal(in.Allowed, tt.wantAllowed) || !slices.Equal(in.Blocked, tt.wantBlk) {
				t.Fatalf("Normalize = %v %v, %v; want %v %v", in.Allowed, in.Blocked, err, tt.wantAllowed, tt.wantBlk)
			}
		})
	}
}

// TestNAICSCatalog checks the shipped NAICS 2022 list (naics2022.csv): the
// official counts per level, every code under its parent, and a few codes.
func TestNAICSCatalog(t *testing.T) {
	t.Parallel()
	levels := map[IndustryLevel]int{}
	for _, i := range AllIndustries {
		levels[i.Level]++
		if i.Level > IndustrySector && (i.Parent == nil || i.Parent.Level != i.Level-1) {
			t.Errorf("%s: parent %+v", i.Code, i.Parent)
		}
	}
	want := map[IndustryLevel]int{IndustrySector: 20, IndustrySubsector: 96, IndustryGroup: 308, IndustryIndustry: 689, IndustryNationalIndustry: 1012}
	if len(AllIndustries) != 2125 || len(IndustryCatalog) != 20 || !maps.Equal(levels, want) {
		t.Errorf("%d codes, %d sectors, by level %v; want 2125, 20, %v", len(AllIndustries), len(IndustryCatalog), levels, want)
	}
	casinos, err := IndustryByCode("code", "713210")
	if err != nil || casinos.Name != "Casinos (except Casino Hotels)" || casinos.Level != IndustryNationalIndustry {
		t.Fatalf("713210 = %+v, %v", casinos, err)
	}
	var chain []IndustryCode
	for _, a := range casinos.Ancestors() {
		chain = append(chain, a.Code)
	}
	if !slices.Equal(chain, []IndustryCode{"71321", "7132", "713", "71"}) {
		t.Errorf("713210's ancestors = %v", chain)
	}
	if i, _ := IndustryByCode("code", "311"); i == nil || i.Parent.Code != "31-33" {
		t.Errorf("311's parent = %+v, want the sector 31-33", i)
	}
	if c, err := IndustryChildren("parent", "31-33"); err != nil || len(c) != 21 || c[0].Code != "311" || MaxIndustryChildren != 21 {
		t.Errorf("31-33 has %d subsectors (%v), MaxIndustryChildren %d; want 21 from 311", len(c), err, MaxIndustryChildren)
	}
	_, err = IndustryByCode("code", "7132109")
	wantInvalid(t, err, "code", "not a NAICS 2022 code")
}

// TestIndustryDecide: the most specific listed code covering the industry
// decides; blocking a national industry leaves the rest of its sector.
func TestIndustryDecide(t *testing.T) {
	t.Parallel()
	cfg := func(allowed, blocked []IndustryCode) *IndustryConfig {
		return &IndustryConfig{Allowed: Industries(allowed), Blocked: Industries(blocked)}
	}
	for _, tt := range []struct {
		name             string
		allowed, blocked []IndustryCode
		code             IndustryCode
		accepted         bool
		reason           IndustryReason
		by               IndustryCode
	}{
		{"NoLists", nil, nil, "713210", true, IndustryNotRestricted, ""},
		{"BlockedItself", nil, []IndustryCode{"713210"}, "713210", false, IndustryBlocked, "713210"},
		{"SectorNotBlockedByItsCasinos", nil, []IndustryCode{"713210"}, "71", true, IndustryNotRestricted, ""},
		{"SiblingNotBlocked", nil, []IndustryCode{"713210"}, "713110", true, IndustryNotRestricted, ""},
		{"BlockedBySector", nil, []IndustryCode{"71"}, "713210", false, IndustryBlocked, "71"},
		{"BlockedByRangeSector", nil, []IndustryCode{"31-33"}, "311111", false, IndustryBlocked, "31-33"},
		{"ExceptionAllowedInBlockedSector", []IndustryCode{"713210"}, []IndustryCode{"71"}, "713210", true, IndustryAllowed, "713210"},
		{"RestOfBlockedSector", []IndustryCode{"713210"}, []IndustryCode{"71"}, "713290", false, IndustryBlocked, "71"},
		{"BlockedInAllowedSector", []IndustryCode{"71"}, []IndustryCode{"7132"}, "713210", false, IndustryBlocked, "7132"},
		{"AllowedBySector", []IndustryCode{"71"}, []IndustryCode{"7132"}, "711110", true, IndustryAllowed, "71"},
		{"NotAllowed", []IndustryCode{"52"}, nil, "713210", false, IndustryNotAllowed, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			i, _ := IndustryByCode("code", tt.code)
			d := cfg(tt.allowed, tt.blocked).Decide(i)
			by := IndustryCode("")
			if d.DecidedBy != nil {
				by = d.DecidedBy.Code
			}
			if d.Accepted != tt.accepted || d.Reason != tt.reason || by != tt.by || d.Industry != i {
				t.Errorf("Decide(%s) = %v %s by %q; want %v %s by %q", tt.code, d.Accepted, d.Reason, by, tt.accepted, tt.reason, tt.by)
			}
		})
	}
}

func weights(pairs ...any) []RiskWeightInput {
	var out []RiskWeightInput
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, RiskWeightInput{Check: pairs[i].(WebCheck), Weight: pairs[i+1].(float64)})
	}
	return out
}

func TestRiskMatrixInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    []RiskWeightInput
		want  []RiskWeight // in enum order
		field string
		parts []string
	}{
		{name: "OK", in: weights(CheckBlacklist, 0.5, CheckDomainAge, 0.3, CheckSSLCertificate, 0.2),
			want: []RiskWeight{{CheckDomainAge, 3000}, {CheckSSLCertificate, 2000}, {CheckBlacklist, 5000}}},
		{name: "OKSingleCheck", in: weights(CheckBlacklist, 1.0), want: []RiskWeight{{CheckBlacklist, 10000}}},
		{name: "OKThirdsWithinTolerance", in: weights(CheckBlacklist, 0.3333, CheckDomainAge, 0.3333, CheckContactInfo, 0.3333),
			want: []RiskWeight{{CheckDomainAge, 3333}, {CheckBlacklist, 3333}, {CheckContactInfo, 3333}}},
		{name: "OKAboveWithinTolerance", in: weights(CheckBlacklist, 0.5001, CheckDomainAge, 0.5),
			want: []RiskWeight{{CheckDomainAge, 5000}, {CheckBlacklist, 5001}}},
		{name: "OKFloatNoise", in: weights(CheckBlacklist, 0.1+0.2, CheckDomainAge, 0.7),
			want: []RiskWeight{{CheckDomainAge, 7000}, {CheckBlacklist, 3000}}},
		{name: "OKDefaultsSumToOne", in: func() []RiskWeightInput {
			var out []RiskWeightInput
			for _, w := range DefaultRiskWeights() {
				out = append(out, RiskWeightInput{w.Check, w.Weight()})
			}
			return out
		}(), want: func() []RiskWeight {
			var out []RiskWeight
			for _, w := range DefaultRiskWeights() {
				out = append(out, *w)
			}
			return out
		}()},
		{name: "ErrWeightsSum", in: weights(CheckBlacklist, 0.5, CheckDomainAge, 0.45), field: "weights",
			parts: []string{"weights must sum to 1.0", "got 0.9500"}},
		{name: "ErrWeightsSumAbove", in: weights(CheckBlacklist, 0.6, CheckDomainAge, 0.6), field: "weights", parts: []string{"got 1.2000"}},
		{name: "ErrWeightsSumJustOutside", in: weights(CheckBlacklist, 0.5, CheckDomainAge, 0.4998), field: "weights", parts: []string{"got 0.9998"}},
		{name: "ErrWeightsEmpty", in: nil, field: "weights", parts: []string{"at least one check"}},
		{name: "ErrWeightNegative", in: weights(CheckBlacklist, 1.1, CheckDomainAge, -0.1), field: "weights[0].weight", parts: []string{"between 0 and 1", "got 1.1"}},
		{name: "ErrWeightAboveOne", in: weights(CheckBlacklist, 0.5, CheckDomainAge, -0.5), field: "weights[1].weight", parts: []string{"DOMAIN_AGE", "got -0.5"}},
		{name: "ErrWeightZero", in: weights(CheckBlacklist, 1.0, CheckDomainAge, 0.0), field: "weights[1].weight", parts: []string{"is 0", "leave out"}},
		{name: "ErrWeightPrecision", in: weights(CheckBlacklist, 0.12345, CheckDomainAge, 0.87655), field: "weights[0].weight", parts: []string{"4 decimal places", "0.12345"}},
		{name: "ErrWeightDuplicate", in: weights(CheckBlacklist, 0.5, CheckDomainAge, 0.25, CheckBlacklist, 0.25), field: "weights[2].check",
			parts: []string{"BLACKLIST is listed twice", "weights[0]"}},
		{name: "ErrWeightUnknownCheck", in: weights(WebCheck("PAGE_RANK"), 1.0), field: "weights[0].check", parts: []string{`"PAGE_RANK"`, "DOMAIN_AGE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := RiskMatrixInput{Weights: tt.in}
			got, err := in.Normalize()
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.parts...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var flat []RiskWeight
			for _, w := range got {
				flat = append(flat, *w)
			}
			if !slices.Equal(flat, tt.want) {
				t.Fatalf("Normalize = %v, want %v", flat, tt.want)
			}
		})
	}
}

func TestFormatUnits(t *testing.T) {
	t.Parallel()
	for u, want := range map[int]string{0: "0.0000", 9500: "0.9500", 10000: "1.0000", 12000: "1.2000", 1: "0.0001", -500: "-0.0500"} {
		if got := FormatUnits(u); got != want {
			t.Errorf("FormatUnits(%d) = %q, want %q", u, got, want)
		}
	}
}

func TestWebsiteConfigPatch(t *testing.T) {
	t.Parallel()
	i := func(v int) *int { return &v }
	f := false
	def := DefaultWebsiteConfig("t")
	tests := []struct {
		name  string
		patch WebsiteConfigPatch
		check func(t *testing.T, c *WebsiteConfig)
		field string
		parts []string
	}{
		{name: "OKEmptyPatchKeepsDefaults", patch: WebsiteConfigPatch{}, check: func(t *testing.T, c *WebsiteConfig) {
			if !slices.Equal(c.EnabledChecks, WebChecks) || c.TimeoutSeconds != 10 || c.PassThreshold != 70 || c.ReviewThreshold != 40 || !c.FollowRedirects || c.MaxRedirects != 5 {
				t.Errorf("defaults changed: %+v", c)
			}
		}},
		{name: "OKChecksCanonical", patch: WebsiteConfigPatch{EnabledChecks: []WebCheck{CheckBlacklist, CheckDomainAge, CheckBlacklist}}, check: func(t *testing.T, c *WebsiteConfig) {
			if want := []WebCheck{CheckDomainAge, CheckBlacklist}; !slices.Equal(c.EnabledChecks, want) {
				t.Errorf("enabledChecks = %v, want %v", c.EnabledChecks, want)
			}
		}},
		{name: "OKBounds", patch: WebsiteConfigPatch{TimeoutSeconds: i(60), PassThreshold: i(100), ReviewThreshold: i(0), MaxRedirects: i(10), FollowRedirects: &f}, check: func(t *testing.T, c *WebsiteConfig) {
			if c.TimeoutSeconds != 60 || c.PassThreshold != 100 || c.ReviewThreshold != 0 || c.MaxRedirects != 10 || c.FollowRedirects {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "OKEqualThresholds", patch: WebsiteConfigPatch{PassThreshold: i(50), ReviewThreshold: i(50)}, check: func(t *testing.T, c *WebsiteConfig) {
			if c.PassThreshold != 50 || c.ReviewThreshold != 50 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "OKBothThresholdsMove", patch: WebsiteConfigPatch{PassThreshold: i(30), ReviewThreshold: i(20)}, check: func(t *testing.T, c *WebsiteConfig) {
			if c.PassThreshold != 30 || c.ReviewThreshold != 20 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "ErrNoEnabledChecks", patch: WebsiteConfigPatch{EnabledChecks: []WebCheck{}}, field: "enabledChecks", parts: []string{"at least one check"}},
		{name: "ErrUnknownEnabledCheck", patch: WebsiteConfigPatch{EnabledChecks: []WebCheck{CheckBlacklist, "PAGE_RANK"}}, field: "enabledChecks[1]", parts: []string{`"PAGE_RANK"`}},
		{name: "ErrTimeoutTooShort", patch: WebsiteConfigPatch{TimeoutSeconds: i(0)}, field: "timeoutSeconds", parts: []string{"between 1 and 60 seconds", "got 0"}},
		{name: "ErrTimeoutTooLong", patch: WebsiteConfigPatch{TimeoutSeconds: i(61)}, field: "timeoutSeconds", parts: []string{"got 61"}},
		{name: "ErrPassThresholdRange", patch: WebsiteConfigPatch{PassThreshold: i(101)}, field: "passThreshold", parts: []string{"between 0 and 100", "got 101"}},
		{name: "ErrReviewThresholdRange", patch: WebsiteConfigPatch{ReviewThreshold: i(-1)}, field: "reviewThreshold", parts: []string{"between 0 and 100", "got -1"}},
		{name: "ErrReviewAbovePass", patch: WebsiteConfigPatch{ReviewThreshold: i(80)}, field: "reviewThreshold", parts: []string{"reviewThreshold (80) must be at most passThreshold (70)"}},
		{name: "ErrPassBelowReview", patch: WebsiteConfigPatch{PassThreshold: i(30)}, field: "passThreshold", parts: []string{"reviewThreshold (40) must be at most passThreshold (30)"}},
		{name: "ErrMaxRedirectsRange", patch: WebsiteConfigPatch{MaxRedirects: i(11)}, field: "maxRedirects", parts: []string{"between 0 and 10", "got 11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.patch.Apply(def)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.parts...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
	if !slices.Equal(def.EnabledChecks, WebChecks) || def.PassThreshold != 70 {
		t.Errorf("Apply changed its argument: %+v", def)
	}
}

func TestWatchlistSeats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		seats, active int
		field         string
		parts         []string
	}{
		{name: "OK", seats: 10, active: 3},
		{name: "OKEqualToActive", seats: 3, active: 3},
		{name: "OKZero", seats: 0, active: 0},
		{name: "OKMax", seats: 1_000_000, active: 0},
		{name: "ErrSeatsNegative", seats: -1, field: "availableSeats", parts: []string{"between 0 and 1000000", "got -1"}},
		{name: "ErrSeatsTooMany", seats: 1_000_001, field: "availableSeats", parts: []string{"got 1000001"}},
		{name: "ErrSeatsBelowActive", seats: 4, active: 7, field: "availableSeats", parts: []string{"cannot be 4", "7 active subjects"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := WatchlistSeatsInput{AvailableSeats: tt.seats}
			err := in.Check(tt.active)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.parts...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, tt := range []struct{ seats, active, want int }{{10, 3, 7}, {3, 3, 0}, {2, 5, 0}, {0, 0, 0}} {
		w := WatchlistSeats{AvailableSeats: tt.seats, ActiveSubjects: tt.active}
		if got := w.RemainingSeats(); got != tt.want {
			t.Errorf("RemainingSeats(%d available, %d active) = %d, want %d", tt.seats, tt.active, got, tt.want)
		}
	}
}

func TestWebCheckEnum(t *testing.T) {
	t.Parallel()
	for _, c := range WebChecks {
		var got WebCheck
		if err := got.UnmarshalGQL(string(c)); err != nil || got != c {
			t.Errorf("UnmarshalGQL(%s) = %q, %v", c, got, err)
		}
	}
	var c WebCheck
	wantInvalid(t, c.UnmarshalGQL("PAGE_RANK"), "check", "PAGE_RANK")
}
