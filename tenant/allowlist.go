package tenant

import (
	"fmt"
	"net/netip"
	"strings"
)

// NormalizeAllowlist parses each entry as an IPv4/IPv6 address or CIDR
// block and returns them canonical (a bare address becomes /32 or /128, host
// bits are cleared, IPv4-mapped IPv6 becomes IPv4), in input order with
// duplicates removed. field is the input path used in errors.
func NormalizeAllowlist(field string, entries []string) ([]string, error) {
	if len(entries) > MaxAllowlistEntries {
		return nil, Invalid(field, "%s holds at most %d entries, got %d", field, MaxAllowlistEntries, len(entries))
	}
	out := make([]string, 0, len(entries))
	seen := make(map[netip.Prefix]bool, len(entries))
	for i, e := range entries {
		p, err := ParsePrefix(e)
		if err != nil {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "%s[%d]: %q is not an IPv4/IPv6 address or CIDR block (such as 203.0.113.0/24 or 2001:db8::/32)", field, i, e)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p.String())
		}
	}
	return out, nil
}

// ParsePrefix parses an address or CIDR block into its canonical prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zone not allowed")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("not an address")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
