package korean

import (
	"bytes"
	"strings"
)

// Drivetrain reads the drive layout out of trim text ("2.5 AWD 기본형",
// "530i xDrive", "4MATIC"). It returns "" when the text does not say; 2WD is
// not mapped because it does not tell front from rear.
func Drivetrain(text string) string {
	var buf [128]byte
	t := appendFold(buf[:0], text)
	for _, d := range drivetrains {
		for _, w := range d.words {
			if bytes.Contains(t, w) {
				return d.layout
			}
		}
	}
	return ""
}

// drivetrains are the words that name a layout in folded text, the first
// layout named winning ("4WD AWD" reads as 4WD).
var drivetrains = []struct {
	layout string
	words  [][]byte
}{
	{"4WD", [][]byte{[]byte("4WD"), []byte("4X4")}},
	{"AWD", [][]byte{[]byte("AWD"), []byte("XDRIVE"), []byte("4MATIC"), []byte("콰트로"), []byte("QUATTRO"), []byte("HTRAC")}},
	{"FWD", [][]byte{[]byte("FWD"), []byte("전륜")}},
	{"RWD", [][]byte{[]byte("RWD"), []byte("후륜")}},
}

// FuelInText finds a fuel named in free trim text (Danawa has no fuel
// column; titles say 디젤, 가솔린, HEV, LPe). Latin abbreviations are matched
// as whole words so that a model name such as "Levante" is not read as "EV".
// It returns "" when the text names no fuel.
func FuelInText(text string) string {
	for _, tok := range strings.Fields(strings.ToUpper(text)) {
		switch {
		case tok == "PHEV" || strings.Contains(tok, "플러그인"):
			return "plug_in_hybrid"
		case tok == "HEV" || strings.Contains(tok, "하이브리드"):
			return "hybrid"
		case tok == "FCEV" || strings.Contains(tok, "수소"):
			return "hydrogen"
		case tok == "EV" || strings.Contains(tok, "전기"):
			return "electric"
		case tok == "CRDI" || strings.Contains(tok, "디젤") || strings.Contains(tok, "경유"):
			return "diesel"
		case tok == "LPG" || tok == "LPI" || tok == "LPE" || strings.HasPrefix(tok, "LPG"):
			return "lpg"
		case tok == "GDI" || tok == "T-GDI" || strings.Contains(tok, "가솔린") || strings.Contains(tok, "휘발유"):
			return "gasoline"
		}
	}
	return ""
}
