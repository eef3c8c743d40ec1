package korean

// Names K Car's auction answers use that the other sources do not. They
// are kept in tables of their own and added to the catalogue when the
// package loads, so that every source reads the same catalogue.

// kcarAliases are make spellings of K Car's MNUFTR_NM, by English make.
var kcarAliases = map[string][]string{
	"KG Mobility": {"KGM"}, // the rows say KGM; the site's filter list says KG모빌리티(쌍용)
}

// kcarModels are model groups first seen in K Car's answers, by English
// make: MODEL_NM "뉴 CC" (Volkswagen) and "뉴 마스터" (Renault's van and
// minibus, sold by Renault Korea).
var kcarModels = map[string][]Model{
	"Volkswagen":    {{English: "CC", Korean: "CC"}},
	"Renault Korea": {{English: "Master", Korean: "마스터"}},
}

func init() {
	for i := range catalogue {
		m := &catalogue[i]
		m.Aliases = append(m.Aliases, kcarAliases[m.English]...)
		m.Models = append(m.Models, kcarModels[m.English]...)
	}
}

// kcarSites are K Car's auction sites: AUC_PLC_CD and AUC_PLC_NM as the
// list answer has them. 세종경매장's code has not been seen; it is known
// by name only.
var kcarSites = []struct{ code, korean, english string }{
	{"112", "오산경매장", "Osan"},
	{"", "세종경매장", "Sejong"},
}

// KCarSite returns the English name of a K Car auction site from its code
// and name. A code the table knows must come with its own name; a code it
// does not know is accepted only with a name it knows (the code of a known
// site may be learnt later). ok is false for a site the table does not
// know, or a code and name that disagree.
func KCarSite(code, name string) (string, bool) {
	name = fold(name)
	for _, s := range kcarSites {
		if s.code != "" && s.code == code {
			return s.english, fold(s.korean) == name
		}
	}
	for _, s := range kcarSites {
		if fold(s.korean) == name {
			return s.english, s.code == "" || s.code == code
		}
	}
	return "", false
}

// KCarSites lists the English names of K Car's auction sites.
func KCarSites() []string {
	out := make([]string, len(kcarSites))
	for i, s := range kcarSites {
		out[i] = s.english
	}
	return out
}
