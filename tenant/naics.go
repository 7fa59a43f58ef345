package tenant

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// The industry codes of screening are the North American Industry
// Classification System, 2022 edition (NAICS 2022), at every level: the
// 20 sectors (2 digits, or a range: 31-33, 44-45, 48-49), 96 subsectors
// (3 digits), 308 industry groups (4), 689 industries (5) and 1,012
// national industries (6), 2,125 codes in all.
//
// naics2022.csv is the US Census Bureau's "2-6 digit_2022_Codes.xlsx"
// (https://www.census.gov/naics/2022NAICS/2-6%20digit_2022_Codes.xlsx, the
// official code file: Seq. No., 2022 NAICS US Code, 2022 NAICS US Title),
// its code and title columns as CSV in the file's order, titles with their
// trailing spaces trimmed; nothing else changed. census.gov could not be
// reached from where it was built, so the workbook was taken from a public
// copy (github.com/Merlin-St/SResilience-trials, commit db61f09,
// hf_models_monitoring_test/2-6 digit_2022_Codes.xlsx, SHA-256
// c16ec400008ba6e501bdb5864eb2cb3fcaa9f1986c03a8e1d5aee1f1cec5beaf, with
// the official header and all 2,125 rows); TestNAICSCatalog checks its
// counts and structure.
//
//go:embed naics2022.csv
var naicsCSV string

// IndustryCode is a NAICS 2022 code at any level: "71", "31-33", "7132",
// "713210". GraphQL shows it as the scalar IndustryCode.
type IndustryCode string

// IndustryLevel is the depth of a NAICS code: SECTOR (2 digits) to
// NATIONAL_INDUSTRY (6 digits); its value is the number of digits.
type IndustryLevel int

// The NAICS levels, by number of digits.
const (
	IndustrySector           IndustryLevel = 2
	IndustrySubsector        IndustryLevel = 3
	IndustryGroup            IndustryLevel = 4
	IndustryIndustry         IndustryLevel = 5
	IndustryNationalIndustry IndustryLevel = 6
)

var industryLevelNames = map[IndustryLevel]string{IndustrySector: "SECTOR", IndustrySubsector: "SUBSECTOR",
	IndustryGroup: "INDUSTRY_GROUP", IndustryIndustry: "INDUSTRY", IndustryNationalIndustry: "NATIONAL_INDUSTRY"}

// MarshalGQL encodes the GraphQL enum IndustryLevel.
func (l IndustryLevel) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(industryLevelNames[l]))
}

// UnmarshalGQL decodes the GraphQL enum IndustryLevel.
func (l *IndustryLevel) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	for k, name := range industryLevelNames {
		if name == s {
			*l = k
			return nil
		}
	}
	return Invalid("level", "%q is not an industry level: SECTOR, SUBSECTOR, INDUSTRY_GROUP, INDUSTRY or NATIONAL_INDUSTRY", s)
}

// Industry is a code of the NAICS 2022 catalog.
type Industry struct {
	Code  IndustryCode
	Name  string // the official title
	Level IndustryLevel
	// Parent is the code one level up (7132 for 71321; the sector 31-33
	// for 311); nil for a sector.
	Parent *Industry
}

// NAICSCode is the code, as a string (the deprecated Industry.naicsCode).
func (i *Industry) NAICSCode() string { return string(i.Code) }

// Ancestors are the codes above i, the nearest first (71321, 7132, 713,
// 71 for 713210).
func (i *Industry) Ancestors() []*Industry {
	var out []*Industry
	for p := i.Parent; p != nil; p = p.Parent {
		out = append(out, p)
	}
	return out
}

// MaxIndustryCodes bounds each of a tenant's industry lists.
const MaxIndustryCodes = 100

var (
	// IndustryCatalog is the 20 sectors of NAICS 2022, in NAICS order.
	IndustryCatalog []*Industry
	// AllIndustries is every NAICS 2022 code, in NAICS order.
	AllIndustries []*Industry
	// MaxIndustryChildren is the most codes one code has one level
	// below it (a bound of industryCatalog's list).
	MaxIndustryChildren int

	industryByCode   = map[IndustryCode]*Industry{}
	industryChildren = map[IndustryCode][]*Industry{}
)

// sectorRanges are the sectors NAICS numbers as a range of two-digit
// prefixes: a subsector's sector is found by its first two digits.
var sectorRanges = map[string]IndustryCode{"31": "31-33", "32": "31-33", "33": "31-33",
	"44": "44-45", "45": "44-45", "48": "48-49", "49": "48-49"}

var naicsCodeRe = regexp.MustCompile(`^([0-9]{2,6}|[0-9]{2}-[0-9]{2})$`)

func init() {
	r := csv.NewReader(strings.NewReader(naicsCSV))
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		panic(fmt.Sprintf("naics2022.csv: %v", err)) // embedded: a broken build, caught by every test
	}
	for _, row := range rows[1:] {
		code := IndustryCode(row[0])
		if !naicsCodeRe.MatchString(row[0]) || industryByCode[code] != nil {
			panic(fmt.Sprintf("naics2022.csv: bad or repeated code %q", row[0]))
		}
		i := &Industry{Code: code, Name: row[1], Level: IndustryLevel(len(code))}
		if strings.Contains(row[0], "-") {
			i.Level = IndustrySector
		}
		if i.Level > IndustrySector {
			parent := IndustryCode(row[0][:len(row[0])-1])
			if i.Level == IndustrySubsector {
				parent = IndustryCode(row[0][:2])
				if s, ok := sectorRanges[row[0][:2]]; ok {
					parent = s
				}
			}
			if i.Parent = industryByCode[parent]; i.Parent == nil {
				panic(fmt.Sprintf("naics2022.csv: %s comes before its parent %s", code, parent))
			}
			industryChildren[parent] = append(industryChildren[parent], i)
			MaxIndustryChildren = max(MaxIndustryChildren, len(industryChildren[parent]))
		} else {
			IndustryCatalog = append(IndustryCatalog, i)
		}
		industryByCode[code] = i
		AllIndustries = append(AllIndustries, i)
	}
}

// IndustryByCode returns the catalog entry of code. Codes: EINVALID (not a
// NAICS 2022 code, on field).
func IndustryByCode(field string, code IndustryCode) (*Industry, error) {
	if i := industryByCode[code]; i != nil {
		return i, nil
	}
	return nil, Invalid(field, "%s: %s", field, unknownIndustry(code))
}

// IndustryChildren returns the codes one level below code, in NAICS order.
// Codes: EINVALID (not a NAICS 2022 code, on field).
func IndustryChildren(field string, code IndustryCode) ([]*Industry, error) {
	if _, err := IndustryByCode(field, code); err != nil {
		return nil, err
	}
	if c := industryChildren[code]; c != nil {
		return c, nil
	}
	return []*Industry{}, nil
}

// unknownIndustry says why code is refused and what is allowed.
func unknownIndustry(code IndustryCode) string {
	return fmt.Sprintf("%q is not a NAICS 2022 code: give a code of the 2022 list at any level, 2 to 6 digits "+
		"(a sector 71, a subsector 713, down to a national industry 713210), or a sector range 31-33, 44-45 or 48-49; "+
		"the industryCatalog query lists them", string(code))
}

// UnmarshalGQL decodes the GraphQL scalar IndustryCode: any string (the
// catalog check, which names the list and index, comes with the input's).
func (c *IndustryCode) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return &Error{Code: EINVALID, Message: "must be a NAICS 2022 code as a string, such as \"713210\""}
	}
	*c = IndustryCode(strings.TrimSpace(s))
	return nil
}

// MarshalGQL encodes the GraphQL scalar IndustryCode.
func (c IndustryCode) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// IndustryDecision is how a tenant's industry lists treat a business of
// one industry code.
type IndustryDecision struct {
	Industry  *Industry
	Accepted  bool
	Reason    IndustryReason
	DecidedBy *Industry // the listed code that decided, nil for none
}

// IndustryReason is why an industry is accepted or refused.
type IndustryReason string

// The reasons of an IndustryDecision.
const (
	IndustryBlocked       IndustryReason = "BLOCKED"
	IndustryAllowed       IndustryReason = "ALLOWED"
	IndustryNotAllowed    IndustryReason = "NOT_ALLOWED"
	IndustryNotRestricted IndustryReason = "NOT_RESTRICTED"
)

// MarshalGQL encodes the GraphQL enum IndustryDecisionReason.
func (r IndustryReason) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL decodes the GraphQL enum IndustryDecisionReason.
func (r *IndustryReason) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	switch x := IndustryReason(s); x {
	case IndustryBlocked, IndustryAllowed, IndustryNotAllowed, IndustryNotRestricted:
		*r = x
		return nil
	}
	return Invalid("reason", "%q is not an industry decision reason", s)
}

// Decide says whether c accepts a business of industry i. The most
// specific listed code among i and its ancestors decides: blocked, it is
// refused; allowed, it is accepted. So blocking 713210 refuses casinos
// and nothing else of sector 71, and allowing 713210 while 71 is blocked
// accepts casinos alone of the sector. When no listed code covers i, it
// is accepted when allowed is empty, refused otherwise. Codes below i do
// not count: a business known only as sector 71 is not a casino.
func (c *IndustryConfig) Decide(i *Industry) *IndustryDecision {
	in := func(list []*Industry, x *Industry) bool {
		for _, l := range list {
			if l.Code == x.Code {
				return true
			}
		}
		return false
	}
	for _, x := range append([]*Industry{i}, i.Ancestors()...) {
		switch {
		case in(c.Blocked, x):
			return &IndustryDecision{Industry: i, Reason: IndustryBlocked, DecidedBy: x}
		case in(c.Allowed, x):
			return &IndustryDecision{Industry: i, Accepted: true, Reason: IndustryAllowed, DecidedBy: x}
		}
	}
	if len(c.Allowed) > 0 {
		return &IndustryDecision{Industry: i, Reason: IndustryNotAllowed}
	}
	return &IndustryDecision{Industry: i, Accepted: true, Reason: IndustryNotRestricted}
}
