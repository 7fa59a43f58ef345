package tenant

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for the parsers of untrusted input that live in tenant
// (API keys and IP allowlists are fuzzed in tenant_test.go): dates, date
// ranges, webhook URLs and notification emails. make test runs their seed
// corpora; run one longer with
//
//	go test ./tenant -run '^$' -fuzz '^FuzzParseDate$' -fuzztime 5m

// wantEINVALID fails unless err is an EINVALID tenant error on field.
func wantEINVALID(t *testing.T, err error, field, input string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || !strings.HasPrefix(e.Field, field) || e.Message == "" {
		t.Fatalf("%q: error %v, want EINVALID on %s", input, err, field)
	}
}

// FuzzParseDate: a Date parses only from an RFC 3339 full-date of a day
// that exists, and prints back exactly as given; the GraphQL scalar and the
// database column read the same days.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-31", "2028-02-29", "2026-02-29", "2026-13-01", "0000-01-01", "9999-12-31",
		"2026-3-31", "2026-03-31T00:00:00Z", " 2026-03-31", "2026-03-31\x00", "२०२६-०३-३१", "", "-001-01-01", "+2026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate("startDate", s)
		var g Date
		gerr := g.UnmarshalGQL(s)
		if (err == nil) != (gerr == nil) || d != g {
			t.Fatalf("%q: ParseDate = %v, %v but UnmarshalGQL = %v, %v", s, d, err, g, gerr)
		}
		if err != nil {
			wantEINVALID(t, err, "startDate", s)
			return
		}
		if d.String() != s {
			t.Fatalf("%q parses to %s", s, d)
		}
		if _, err := time.Parse(time.RFC3339, s+"T00:00:00Z"); err != nil {
			t.Fatalf("%q accepted but is not an RFC 3339 full-date: %v", s, err)
		}
		var scanned Date
		if err := scanned.Scan(s); err != nil || scanned != d {
			t.Fatalf("%q: Scan = %v, %v", s, scanned, err)
		}
		if v, _ := d.Value(); v != s {
			t.Fatalf("%q: Value = %v", s, v)
		}
	})
}

// FuzzStatsRange: any start, end and granularity either is refused on
// endDate, or yields BucketCount buckets (at most MaxStatsBuckets) that
// start on bucket boundaries, cover the range in order without gaps, and
// are clipped to it.
func FuzzStatsRange(f *testing.F) {
	f.Add("2026-11-01", "2026-11-30", "WEEKLY")
	f.Add("2026-01-01", "2026-12-31", "DAILY")
	f.Add("2025-12-29", "2026-01-04", "WEEKLY")
	f.Add("2026-02-28", "2028-02-29", "MONTHLY")
	f.Add("2026-11-30", "2026-11-01", "DAILY")
	f.Add("0001-01-01", "9999-12-31", "MONTHLY")
	f.Add("2026-01-01", "2027-01-01", "DAILY")
	f.Add("2026-01-01", "2026-01-01", "")
	f.Fuzz(func(t *testing.T, start, end, gran string) {
		s, err1 := ParseDate("startDate", start)
		e, err2 := ParseDate("endDate", end)
		var g Granularity
		if err1 != nil || err2 != nil || (gran != "" && g.UnmarshalGQL(gran) != nil) {
			return
		}
		q := StatsQuery{Start: s, End: e, Granularity: g}
		if err := q.Validate(); err != nil {
			wantEINVALID(t, err, "endDate", start+".."+end)
			return
		}
		n := q.BucketCount()
		buckets := q.Buckets()
		if n < 1 || n > MaxStatsBuckets || len(buckets) != n {
			t.Fatalf("%s..%s %s: BucketCount %d, %d buckets", start, end, q.Granularity, n, len(buckets))
		}
		next := q.Start
		for i, b := range buckets {
			if b.From != next || b.To.Before(b.From) || b.To.After(q.End) || q.Granularity.BucketOf(b.From) != b.Key || b.Key.After(b.From) || b.Date != b.From || b.Date.Before(q.Start) {
				t.Fatalf("%s..%s %s: bucket %d = %+v", start, end, q.Granularity, i, b)
			}
			next = b.To.AddDays(1)
		}
		if buckets[len(buckets)-1].To != q.End {
			t.Fatalf("%s..%s %s: the buckets end on %s", start, end, q.Granularity, buckets[len(buckets)-1].To)
		}
	})
}

// FuzzValidateWebhookURL: an accepted URL is https, has a host, no user
// information or fragment, fits the length limit, and is accepted again
// unchanged.
func FuzzValidateWebhookURL(f *testing.F) {
	for _, s := range []string{"https://hooks.acme.fr/kyc", "http://hooks.acme.fr", "https://user:pw@acme.fr", "https://acme.fr/#x",
		"https://[::1]:443/x", "https://10.0.0.1:0/", "HTTPS://ACME.FR/Path?q=1", "https://acme", "https:///x", "https://acme.fr:99999",
		"https://%zz.fr", "https://xn--caf-dma.fr/é", " https://acme.fr ", "javascript:alert(1)", "https://acme.fr\x00.evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ValidateWebhookURL("webhookUrl", s)
		if err != nil {
			wantEINVALID(t, err, "webhookUrl", s)
			return
		}
		u, perr := url.Parse(out)
		if perr != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(out, "#") || len(out) > MaxWebhookURLLength {
			t.Fatalf("%q accepted as %q", s, out)
		}
		again, err := ValidateWebhookURL("webhookUrl", out)
		if err != nil || again != out {
			t.Fatalf("%q accepted as %q, which then gives %q, %v", s, out, again, err)
		}
	})
}

// FuzzNormalizeEmails: accepted addresses are plain, de-duplicated
// case-insensitively, at most MaxNotificationEmails, and stable when
// normalized again.
func FuzzNormalizeEmails(f *testing.F) {
	for _, s := range []string{"compliance@acme.fr,Compliance@ACME.fr", "a@b", "John <j@acme.fr>", "\"q\"@acme.fr", "a@acme.fr,,b@acme.fr",
		"a@-acme.fr", strings.Repeat("x", 65) + "@acme.fr", "é@acme.fr", "a@acme.fr\r\nBcc: x@evil.example", strings.Repeat("a@acme.fr,", 21)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := strings.Split(s, ",")
		out, err := NormalizeEmails("emails", in)
		if err != nil {
			wantEINVALID(t, err, "emails", s)
			return
		}
		if len(out) > MaxNotificationEmails || len(out) > len(in) {
			t.Fatalf("%q: %d addresses", s, len(out))
		}
		seen := map[string]bool{}
		for _, a := range out {
			if strings.ContainsAny(a, " <>\"\r\n") || !strings.Contains(a, "@") || seen[strings.ToLower(a)] {
				t.Fatalf("%q gives %q", s, out)
			}
			seen[strings.ToLower(a)] = true
		}
		again, err := NormalizeEmails("emails", out)
		if err != nil || strings.Join(again, ",") != strings.Join(out, ",") {
			t.Fatalf("%q gives %q, then %q, %v", s, out, again, err)
		}
	})
}
