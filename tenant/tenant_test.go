package tenant

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// wantInvalid checks err is an EINVALID *Error on field whose message holds
// every one of parts.
func wantInvalid(t *testing.T, err error, field string, parts ...string) {
	t.Helper()
	wantError(t, err, EINVALID, field, parts...)
}

func wantError(t *testing.T, err error, code, field string, parts ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("err = code %q field %q (%s), want code %q field %q", e.Code, e.Field, e.Message, code, field)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not contain %q", e.Message, p)
		}
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"Simple", "Acme", "Acme", false},
		{"Trimmed", "  Acme Corp \t\n", "Acme Corp", false},
		{"Max200", strings.Repeat("a", 200), strings.Repeat("a", 200), false},
		{"Max200Runes", strings.Repeat("é", 200), strings.Repeat("é", 200), false},
		{"Max200AfterTrim", "  " + strings.Repeat("a", 200) + "  ", strings.Repeat("a", 200), false},
		{"ErrEmpty", "", "", true},
		{"ErrWhitespace", " \t\n ", "", true},
		{"ErrTooLong", strings.Repeat("a", 201), "", true},
		{"ErrTooLongRunes", strings.Repeat("é", 201), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidateName("name", tt.in)
			if tt.wantErr {
				wantInvalid(t, err, "name", "name", "1 to 200")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ValidateName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidateDomain(t *testing.T) {
	t.Parallel()
	label63 := strings.Repeat("a", 63)
	max253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("d", 61) // 253
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"Simple", "acme.fr", "acme.fr", false},
		{"LowerCased", "ACME.Fr", "acme.fr", false},
		{"Trimmed", "  acme.fr  ", "acme.fr", false},
		{"TrailingDot", "acme.fr.", "acme.fr", false},
		{"Subdomains", "eu.app.acme.co.uk", "eu.app.acme.co.uk", false},
		{"Hyphen", "my-acme.com", "my-acme.com", false},
		{"Punycode", "xn--bcher-kva.de", "xn--bcher-kva.de", false},
		{"DigitsInLabel", "123.example", "123.example", false},
		{"Label63", label63 + ".com", label63 + ".com", false},
		{"Total253", max253, max253, false},
		{"ErrEmpty", "", "", true},
		{"ErrSpaces", "not a domain", "", true},
		{"ErrLeadingHyphen", "-bad.com", "", true},
		{"ErrTrailingHyphen", "bad-.com", "", true},
		{"ErrSingleLabel", "localhost", "", true},
		{"ErrIPv4", "1.2.3.4", "", true},
		{"ErrNumericTLD", "acme.123", "", true},
		{"ErrNumericTLDBeyondInt64", "acme.99999999999999999999", "", true},
		{"ErrEmptyLabel", "acme..fr", "", true},
		{"ErrLeadingDot", ".acme.fr", "", true},
		{"ErrOnlyDot", ".", "", true},
		{"ErrLabel64", strings.Repeat("a", 64) + ".com", "", true},
		{"ErrTotal254", max253 + "d", "", true},
		{"ErrUnderscore", "acme_corp.com", "", true},
		{"ErrUnicode", "bücher.de", "", true},
		{"ErrScheme", "https://acme.fr", "", true},
		{"ErrPort", "acme.fr:443", "", true},
		{"ErrIPv6", "[::1]", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidateDomain("domain", tt.in)
			if tt.wantErr {
				wantInvalid(t, err, "domain", "domain", "hostname", "253")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ValidateDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidateRetention(t *testing.T) {
	t.Parallel()
	tests := []struct {
		days    int
		wantErr bool
	}{
		{-1, true}, {0, true}, {89, true}, {90, false}, {365, false}, {2555, false}, {2556, true}, {1 << 30, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.days), func(t *testing.T) {
			t.Parallel()
			err := ValidateRetention("settings.auditLogRetentionDays", tt.days)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("ValidateRetention(%d) = %v", tt.days, err)
				}
				return
			}
			wantInvalid(t, err, "settings.auditLogRetentionDays", "auditLogRetentionDays", "90", "2555", strconv.Itoa(tt.days))
		})
	}
}

func TestParsePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"203.0.113.7/24", "203.0.113.0/24"},
		{"203.0.113.0/24", "203.0.113.0/24"},
		{"198.51.100.5", "198.51.100.5/32"},
		{" 198.51.100.5 ", "198.51.100.5/32"},
		{"198.51.100.5/32", "198.51.100.5/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1/128", "192.0.2.1/32"},
		{"::ffff:192.0.2.77/120", "192.0.2.0/24"},
		{"::ffff:192.0.2.1/96", "0.0.0.0/0"},
		{"2001:DB8::/32", "2001:db8::/32"},
		{"2001:db8:0:0:0:0:0:1", "2001:db8::1/128"},
		{"2001:db8::1/48", "2001:db8::/48"},
		{"::1", "::1/128"},
		{"::/0", "::/0"},
		{"", ""},
		{"abc", ""},
		{"300.1.1.1", ""},
		{"10.0.0.0/33", ""},
		{"2001:db8::/129", ""},
		{"10.0.0.0/-1", ""},
		{"10.0.0.0/", ""},
		{"/24", ""},
		{"10.0.0", ""},
		{"01.2.3.4", ""},
		{"fe80::1%eth0", ""},
		{"fe80::1%eth0/64", ""},
		{"203.0.113.0 /24", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePrefix(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParsePrefix(%q) = %v, want an error", tt.in, p)
				}
				return
			}
			if err != nil || p.String() != tt.want {
				t.Fatalf("ParsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
			}
		})
	}
}

func TestNormalizeAllowlist(t *testing.T) {
	t.Parallel()
	hundred := make([]string, MaxAllowlistEntries)
	hundredWant := make([]string, MaxAllowlistEntries)
	for i := range hundred {
		hundred[i] = "10.0.0." + strconv.Itoa(i)
		hundredWant[i] = hundred[i] + "/32"
	}
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"Nil", nil, []string{}},
		{"Empty", []string{}, []string{}},
		{"Canonical", []string{"203.0.113.7/24", "198.51.100.5", "::ffff:192.0.2.1", "2001:DB8::/32"},
			[]string{"203.0.113.0/24", "198.51.100.5/32", "192.0.2.1/32", "2001:db8::/32"}},
		{"DuplicatesRemovedOrderKept", []string{"198.51.100.5", "10.0.0.0/8", "198.51.100.5/32", "10.9.9.9/8", "::ffff:198.51.100.5", "2001:db8::1"},
			[]string{"198.51.100.5/32", "10.0.0.0/8", "2001:db8::1/128"}},
		{"Max100", hundred, hundredWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeAllowlist("ipAllowlist", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(got, tt.want) {
				t.Fatalf("NormalizeAllowlist(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}

	errTests := []struct {
		name, field string
		in          []string
		wantField   string
		parts       []string
	}{
		{"ErrBadIPv4", "ipAllowlist", []string{"10.0.0.1", "300.1.1.1"}, "ipAllowlist[1]", []string{"ipAllowlist[1]", "300.1.1.1"}},
		{"ErrBadBits", "ipAllowlist", []string{"10.0.0.1", "10.0.0.0/33"}, "ipAllowlist[1]", []string{"ipAllowlist[1]", "10.0.0.0/33"}},
		{"ErrText", "ipAllowlist", []string{"abc"}, "ipAllowlist[0]", []string{"ipAllowlist[0]", "abc"}},
		{"ErrNestedField", "settings.ipAllowlist", []string{"1.1.1.1", "2.2.2.2", ""}, "settings.ipAllowlist[2]", []string{"settings.ipAllowlist[2]"}},
		{"ErrTooMany", "ipAllowlist", append(slices.Clone(hundred), "10.0.1.0"), "ipAllowlist", []string{"ipAllowlist", "100", "101"}},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeAllowlist(tt.field, tt.in)
			if got != nil {
				t.Errorf("NormalizeAllowlist returned %q with its error", got)
			}
			wantInvalid(t, err, tt.wantField, tt.parts...)
		})
	}
}

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^tnt_[0-9A-Za-z]{46}$`)
	seen := make(map[string]bool, 1000)
	for range 1000 {
		k := NewAPIKey()
		if len(k) != KeyLength || KeyLength != 50 || !shape.MatchString(k) {
			t.Fatalf("NewAPIKey() = %q: not tnt_ + 46 base62 characters", k)
		}
		if !WellFormedKey(k) {
			t.Fatalf("NewAPIKey() = %q is not well-formed", k)
		}
		if seen[k] {
			t.Fatalf("NewAPIKey() returned %q twice", k)
		}
		seen[k] = true
		if p := KeyDisplayPrefix(k); p != k[:12] || len(p) != KeyDisplayChars {
			t.Fatalf("KeyDisplayPrefix(%q) = %q, want %q", k, p, k[:12])
		}
	}
}

// TestWellFormedKeySingleChange flips every character of a few keys to every
// other printable ASCII character: each result must be refused.
func TestWellFormedKeySingleChange(t *testing.T) {
	t.Parallel()
	for range 5 {
		k := NewAPIKey()
		for i := range len(k) {
			for c := byte(0x20); c < 0x7f; c++ {
				if c == k[i] {
					continue
				}
				b := []byte(k)
				b[i] = c
				if WellFormedKey(string(b)) {
					t.Fatalf("key %q with position %d changed to %q is still well-formed: %q", k, i, c, b)
				}
			}
		}
	}
}

func TestWellFormedKey(t *testing.T) {
	t.Parallel()
	k := NewAPIKey()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"Generated", k, true},
		{"Empty", "", false},
		{"PrefixOnly", KeyPrefix, false},
		{"Truncated", k[:KeyLength-1], false},
		{"Extended", k + "0", false},
		{"TrailingNewline", k + "\n", false},
		{"LeadingSpace", " " + k, false},
		{"UpperPrefix", "TNT_" + k[4:], false},
		{"OtherPrefix", "tok_" + k[4:], false},
		{"NoUnderscore", "tnt" + k[3:] + "0", false},
		{"HyphenInBody", k[:10] + "-" + k[11:], false},
		{"NonASCII", k[:KeyLength-2] + "é", false},
		{"SwappedBodyChars", swapped(k, 5, 6), k[5] == k[6]},
		{"ZeroChecksum", k[:KeyLength-keyChecksumLen] + "000000", string(keyChecksum([]byte(k[4:44]))) == "000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := WellFormedKey(tt.in); got != tt.want {
				t.Fatalf("WellFormedKey(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func swapped(s string, i, j int) string {
	b := []byte(s)
	b[i], b[j] = b[j], b[i]
	return string(b)
}

func TestHashKey(t *testing.T) {
	t.Parallel()
	k := NewAPIKey()
	want := sha256.Sum256([]byte(k))
	if got := HashKey(k); !bytes.Equal(got, want[:]) {
		t.Fatalf("HashKey = %x, want %x", got, want)
	}
	if bytes.Equal(HashKey(k), HashKey(NewAPIKey())) {
		t.Fatal("two keys hash alike")
	}
}

func TestActorTargetTenant(t *testing.T) {
	t.Parallel()
	const own, other = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	str := func(s string) *string { return &s }
	key := &Actor{Kind: APIKey, KeyID: "k1", TenantID: own, Permissions: []Permission{PermTenantRead, PermTenantUpdate}}
	manager := &Actor{Kind: APIKey, KeyID: "k2", TenantID: own, Permissions: []Permission{PermTenantManage}}
	admin := &Actor{Kind: Admin}
	anon := &Actor{Kind: Anonymous}
	tests := []struct {
		name     string
		actor    *Actor
		id       *string
		want     string
		wantCode string
	}{
		{"KeyDefaultsToOwn", key, nil, own, ""},
		{"KeyEmptyIsOwn", key, str(""), own, ""},
		{"KeyOwnID", key, str(own), own, ""},
		{"KeyOtherIsNotFound", key, str(other), "", ENOTFOUND},
		{"KeyMalformedIsNotFound", key, str("nope"), "", ENOTFOUND},
		{"ManagerDefaultsToOwn", manager, nil, own, ""},
		{"ManagerOther", manager, str(other), other, ""},
		{"AdminOther", admin, str(other), other, ""},
		{"AdminNeedsID", admin, nil, "", EINVALID},
		{"AdminEmptyNeedsID", admin, str(""), "", EINVALID},
		{"AnonymousNeedsID", anon, nil, "", EINVALID},
		{"AnonymousOtherIsNotFound", anon, str(other), "", ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.actor.TargetTenant(tt.id)
			if tt.wantCode == "" {
				if err != nil || got != tt.want {
					t.Fatalf("TargetTenant = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if got != "" {
				t.Errorf("TargetTenant returned %q with its error", got)
			}
			switch tt.wantCode {
			case EINVALID:
				wantInvalid(t, err, "tenantId", "tenantId", "admin secret")
			case ENOTFOUND:
				// Exactly the message of a missing tenant: nothing tells them apart.
				wantError(t, err, ENOTFOUND, "")
				if err.(*Error).Message != NotFound("tenant").Message {
					t.Fatalf("message %q differs from a missing tenant's", err.(*Error).Message)
				}
			}
		})
	}
}

func TestActorHasAndID(t *testing.T) {
	t.Parallel()
	admin := &Actor{Kind: Admin}
	key := &Actor{Kind: APIKey, KeyID: "abc", TenantID: "t", Permissions: []Permission{PermTenantRead}}
	anon := &Actor{Kind: Anonymous}
	for _, p := range AllPermissions {
		if !admin.Has(p) {
			t.Errorf("admin lacks %s", p)
		}
		if anon.Has(p) {
			t.Errorf("anonymous holds %s", p)
		}
		if key.Has(p) != (p == PermTenantRead) {
			t.Errorf("key.Has(%s) = %v", p, key.Has(p))
		}
	}
	if !admin.AllTenants() || key.AllTenants() || anon.AllTenants() {
		t.Error("AllTenants: only the admin (or tenant:manage) reaches every tenant")
	}
	for a, want := range map[*Actor]string{admin: "admin", key: "key:abc", anon: "anonymous"} {
		if got := a.ActorID(); got != want {
			t.Errorf("ActorID = %q, want %q", got, want)
		}
	}
}

func TestPermissionEnumRoundTrip(t *testing.T) {
	t.Parallel()
	if len(AllPermissions) != 26 {
		t.Errorf("len(AllPermissions) = %d, want 26", len(AllPermissions))
	}
	names := map[string]bool{}
	for _, p := range AllPermissions {
		name := p.EnumName()
		if !regexp.MustCompile(`^[A-Z]+(_[A-Z]+)+$`).MatchString(name) {
			t.Errorf("%s.EnumName() = %q: not an enum name", p, name)
		}
		if names[name] {
			t.Errorf("two permissions share enum name %s", name)
		}
		names[name] = true
		back, ok := PermissionFromEnum(name)
		if !ok || back != p {
			t.Errorf("PermissionFromEnum(%q) = %q, %v; want %q", name, back, ok, p)
		}
		if !p.Valid() {
			t.Errorf("%s is not Valid", p)
		}
		var buf bytes.Buffer
		p.MarshalGQL(&buf)
		var q Permission
		if err := q.UnmarshalGQL(strings.Trim(buf.String(), `"`)); err != nil || q != p || buf.String() != strconv.Quote(name) {
			t.Errorf("GQL round trip of %s: wrote %s, read %q, %v", p, buf.String(), q, err)
		}
	}
	known := map[Permission]string{
		PermTenantManage:               "TENANT_MANAGE",
		PermRiskMatrixRead:             "RISK_MATRIX_READ",
		PermNotificationChannelsUpdate: "NOTIFICATION_CHANNELS_UPDATE",
		PermAPIKeysWrite:               "API_KEYS_WRITE",
		PermWebsiteConfigRead:          "WEBSITE_CONFIG_READ",
		PermSSOUpdate:                  "SSO_UPDATE",
	}
	for p, want := range known {
		if got := p.EnumName(); got != want {
			t.Errorf("%s.EnumName() = %q, want %q", p, got, want)
		}
	}
	for _, bad := range []string{"", "tenant:read", "tenant_read", "TENANT_READ ", "TENANT", "Tenant_Read"} {
		if p, ok := PermissionFromEnum(bad); ok {
			t.Errorf("PermissionFromEnum(%q) = %q, want not found", bad, p)
		}
		var q Permission
		wantInvalid(t, q.UnmarshalGQL(bad), "permissions")
	}
	var q Permission
	wantInvalid(t, q.UnmarshalGQL(42), "permissions")
	if Permission("tenant:everything").Valid() {
		t.Error("an unknown permission is Valid")
	}
	if got := TenantPermissions(); len(got) != len(AllPermissions)-1 || slices.Contains(got, PermTenantManage) {
		t.Errorf("TenantPermissions() = %v", got)
	}
}

// TestPermissionsMatchSchema checks the GraphQL enum lists exactly
// AllPermissions, in order, each described by its string form.
func TestPermissionsMatchSchema(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../schema/permission.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^\\s*\"`([a-z:-]+)`:[^\n]*\n\\s*([A-Z_]+)\\s*$").FindAllStringSubmatch(string(src), -1)
	var schemaNames []string
	for _, g := range m {
		schemaNames = append(schemaNames, g[2])
		if p, ok := PermissionFromEnum(g[2]); !ok || string(p) != g[1] {
			t.Errorf("schema documents %s as %q, Go maps it to %q", g[2], g[1], p)
		}
	}
	var goNames []string
	for _, p := range AllPermissions {
		goNames = append(goNames, p.EnumName())
	}
	if !slices.Equal(schemaNames, goNames) {
		t.Fatalf("schema enum Permission = %v\nAllPermissions        = %v", schemaNames, goNames)
	}
}

// Two keys from NewAPIKey, fixed so the seed corpus is the same in every
// fuzzing process.
const (
	seedKey1 = "tnt_cyqY9CUJP0iKLYn9qNGpR9luyiIJb38lbxwcdggM3K9l1d"
	seedKey2 = "tnt_p84JZyXh1ur7zgp1R45oRGlB5PkUQU27eAPKSmd82e8d8X"
)

// FuzzWellFormedKey: WellFormedKey never panics, and whatever it accepts has
// the key's shape and a checksum that recomputes.
func FuzzWellFormedKey(f *testing.F) {
	for _, s := range []string{
		"", "tnt_", "tnt_0000000000000000000000000000000000000000000000",
		seedKey1, seedKey2, // well-formed
		"TNT_" + seedKey1[4:], seedKey1[:49] + "e", seedKey2[:48] + "é", seedKey2 + "\x00",
		strings.Repeat("\xff", KeyLength),
	} {
		f.Add(s)
	}
	if !WellFormedKey(seedKey1) || !WellFormedKey(seedKey2) {
		f.Fatal("the seed keys are not well-formed")
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !WellFormedKey(s) {
			return
		}
		if len(s) != KeyLength || !strings.HasPrefix(s, KeyPrefix) {
			t.Fatalf("accepted %q: wrong shape", s)
		}
		for _, c := range []byte(s[len(KeyPrefix):]) {
			if !strings.ContainsRune(base62, rune(c)) {
				t.Fatalf("accepted %q: %q is not base62", s, c)
			}
		}
		body := s[len(KeyPrefix):]
		if got := string(keyChecksum([]byte(body[:keyRandomLen]))); got != body[keyRandomLen:] {
			t.Fatalf("accepted %q: checksum recomputes to %s", s, got)
		}
	})
}

// FuzzNormalizeAllowlist: NormalizeAllowlist never panics, refuses only with
// EINVALID on the list or one index, and its output is canonical: each entry
// re-parses to itself, no entry repeats, and normalizing again changes nothing.
// The fuzzed string is split on commas into entries.
func FuzzNormalizeAllowlist(f *testing.F) {
	for _, s := range []string{
		"", "203.0.113.7/24,198.51.100.5,::ffff:192.0.2.1,2001:DB8::/32",
		"10.0.0.1,10.0.0.1/32, 10.0.0.1 ", "300.1.1.1", "10.0.0.0/33", "abc",
		"fe80::1%eth0", "::ffff:192.0.2.77/120", "::ffff:0:0/95", "::1.2.3.4", "0.0.0.0/0,::/0",
		strings.Repeat("1.1.1.1,", 101),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries := strings.Split(s, ",")
		out, err := NormalizeAllowlist("ipAllowlist", entries)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || !strings.HasPrefix(e.Field, "ipAllowlist") {
				t.Fatalf("NormalizeAllowlist(%q) = %v, want EINVALID on ipAllowlist", entries, err)
			}
			return
		}
		if len(out) > len(entries) {
			t.Fatalf("NormalizeAllowlist(%q) = %q: more entries than given", entries, out)
		}
		seen := map[string]bool{}
		for _, o := range out {
			p, err := ParsePrefix(o)
			if err != nil || p.String() != o {
				t.Fatalf("output entry %q re-parses to %v, %v", o, p, err)
			}
			if seen[o] {
				t.Fatalf("output %q repeats %q", out, o)
			}
			seen[o] = true
		}
		again, err := NormalizeAllowlist("ipAllowlist", out)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("normalizing %q again gives %q, %v", out, again, err)
		}
	})
}

func TestParseSSOLoginBase(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"https://login.example.com/auth/sso/", "https://login.example.com/auth/sso", ""},
		{" https://login.example.com ", "https://login.example.com", ""},
		{"http://localhost:3000/sso", "http://localhost:3000/sso", ""},
		{"http://127.0.0.1:8080/sso", "http://127.0.0.1:8080/sso", ""},
		{"http://login.example.com/sso", "", "absolute https URL"},
		{"login.example.com/sso", "", "absolute https URL"},
		{"https://login.example.com/sso#top", "", "without query or fragment"},
		{"https://user:pw@login.example.com/sso", "", "absolute https URL"},
	}
	for _, tc := range tests {
		got, err := ParseSSOLoginBase(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSSOLoginBase(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSSOLoginBase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
