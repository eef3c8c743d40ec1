package korean

import "strings"

// makeSpellings are further names of makes, kept apart from the catalogue:
// the makers' full company names, which Encar's answers sometimes carry in
// place of its short names ("현대자동차" for 현대). Each must name a make of
// the catalogue (TestMakeSpellingsNameCatalogueMakes).
var makeSpellings = map[string]string{
	"현대자동차":     "Hyundai",
	"현대차":       "Hyundai",
	"기아자동차":     "Kia",
	"기아차":       "Kia",
	"제네시스자동차":   "Genesis",
	"한국GM":      "Chevrolet",
	"한국지엠":      "Chevrolet",
	"GM대우자동차":   "Chevrolet",
	"대우자동차":     "Chevrolet",
	"르노삼성자동차":   "Renault Korea",
	"르노코리아자동차":  "Renault Korea",
	"쌍용자동차":     "KG Mobility",
	"KG모빌리티자동차": "KG Mobility",
}

// buyerQualified reads a fuel word Encar qualifies with who may buy the car
// ("LPG(일반인 구입)": LPG, sold to anyone; LPG cars were long sold only to
// taxis, rental firms and the disabled). The qualifier says nothing of the
// fuel: the word before it is looked up. It returns "" for any other form.
func buyerQualified(folded string) string {
	open := strings.IndexByte(folded, '(')
	if open <= 0 || !strings.HasSuffix(folded, "구입)") {
		return ""
	}
	return folded[:open]
}
