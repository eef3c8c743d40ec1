package registry_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmn/aggregator/registry"
)

// TestRegisterRefusesWhatCannotWork: a description that could not be
// served right is refused when the process starts, not found out by a
// partner.
func TestRegisterRefusesWhatCannotWork(t *testing.T) {
	build := func(registry.Env) (registry.Parts, error) { return registry.Parts{}, nil }
	ok := registry.Description{Name: "okay", Kind: registry.Dealer, ID: regexp.MustCompile(`^okay_\d+$`), Build: build}
	for name, change := range map[string]func(*registry.Description){
		"the dealer alias":      func(d *registry.Description) { d.Name = registry.DealerAlias },
		"upper case":            func(d *registry.Description) { d.Name = "Okay" },
		"no kind":               func(d *registry.Description) { d.Kind = "" },
		"unanchored id":         func(d *registry.Description) { d.ID = regexp.MustCompile(`okay_\d+`) },
		"another source's ids":  func(d *registry.Description) { d.ID = regexp.MustCompile(`^glovis_\d+$`) },
		"open-ended id":         func(d *registry.Description) { d.ID = regexp.MustCompile(`^okay_\d+`) },
		"nothing to build with": func(d *registry.Description) { d.Build = nil },
		"a name already taken":  func(d *registry.Description) { d.Name, d.ID = "glovis", regexp.MustCompile(`^glovis_x$`) },
	} {
		d := ok
		change(&d)
		assert.Panics(t, func() { registry.Register(d) }, name)
	}
}

// TestForID: an id belongs to the source whose exact pattern it matches;
// a near miss belongs to none.
func TestForID(t *testing.T) {
	for id, want := range map[string]string{
		"glovis_20250619_3100_1001": "glovis",
		"encar_40849700":            "encar",
		"danawa_a-b_c":              "danawa",
		"barnyard_4":                "barnyard",
		"glovis_20250619_9999_1001": "",
		"encar_":                    "",
		"encar_12x":                 "",
		"fleamarket_":               "",
	} {
		d, ok := registry.ForID(id)
		assert.Equal(t, want != "", ok, id)
		assert.Equal(t, want, string(d.Name), id)
	}
}
