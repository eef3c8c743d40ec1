package httpapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/vehicle"
)

// openapiJSON is the OpenAPI 3 document as written. The sources it names
// are the ones registered when it was written: OpenAPI serves it with every
// list of sources and the id pattern taken from the registry instead.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI is the OpenAPI 3 document of the public API, with the sources
// the registry lists. A test validates every response the test suite
// produces against it, so it cannot drift from what the handlers do.
func OpenAPI() []byte { return openapiDoc() }

// openapiDoc is computed once, after every source has registered (sources
// register before main and before tests run).
var openapiDoc = sync.OnceValue(func() []byte {
	var doc any
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		panic("openapi.json: " + err.Error()) // embedded, and checked by tests
	}
	doc = withSources(doc, "")
	unavailableSources(doc)
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic("openapi.json: " + err.Error())
	}
	return out
})

func handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(OpenAPI())
}

// withSources rewrites every list of sources in node (an enum of source
// names, of header values, an id pattern) from the registry. header is the
// name of the X-LMN-* header node is under, if any: a header's enum lists
// every combination of the sources it can name, in their fixed order.
func withSources(node any, header string) any {
	switch n := node.(type) {
	case []any:
		for i := range n {
			n[i] = withSources(n[i], header)
		}
	case map[string]any:
		for k, v := range n {
			h := header
			if strings.HasPrefix(k, "X-LMN-") {
				h = k
			}
			switch {
			case k == "enum":
				if e, ok := v.([]any); ok {
					n[k] = sourceEnum(e, h != "")
					continue
				}
			case k == "pattern":
				if p, ok := v.(string); ok {
					n[k] = sourcePattern(p)
					continue
				}
			}
			n[k] = withSources(v, h)
		}
	}
	return node
}

// unavailableSources lets a 503's details.sources name any source: besides
// the dealers that failed, the auction indexes a request needed that have
// never loaded (reason not_loaded), in auction_index_unavailable and in a
// dealer_upstream_unavailable that no source could answer.
func unavailableSources(doc any) {
	node := doc
	for _, k := range []string{"components", "schemas", "Error", "properties", "error", "properties", "details",
		"properties", "sources", "items", "properties"} {
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		node = m[k]
	}
	props, ok := node.(map[string]any)
	if !ok {
		return
	}
	if src, ok := props["source"].(map[string]any); ok {
		var all []any
		for _, s := range vehicle.AllSources() {
			all = append(all, string(s))
		}
		src["enum"] = all
	}
	if reason, ok := props["reason"].(map[string]any); ok {
		if e, ok := reason["enum"].([]any); ok && !slices.Contains(e, any("not_loaded")) {
			reason["enum"] = append(e, "not_loaded")
		}
	}
}

// sourceEnum returns the enum e with its source names (or auction sites)
// replaced by the registry's, or e itself when it lists none.
func sourceEnum(e []any, header bool) []any {
	sites := registry.Sites()
	if len(e) > 0 && !slices.ContainsFunc(e, func(v any) bool { s, ok := v.(string); return !ok || !slices.Contains(sites, s) }) {
		out := make([]any, len(sites))
		for i, s := range sites {
			out[i] = s
		}
		return out
	}
	var names []vehicle.Source
	var others []any // values that are no source: LMN names not served, null
	sawDealer, sawAlias, sawAuction := false, false, false
	for _, v := range e {
		s, ok := v.(string)
		if !ok {
			others = append(others, v)
			continue
		}
		switch all := strings.Split(s, ","); {
		case s == registry.DealerAlias:
			sawAlias = true
		case !slices.ContainsFunc(all, func(x string) bool { return !slices.Contains(vehicle.AllSources(), vehicle.Source(x)) }):
			for _, x := range all {
				src := vehicle.Source(x)
				names = append(names, src)
				sawDealer = sawDealer || src.IsDealer()
				sawAuction = sawAuction || src.IsAuction()
			}
		default:
			others = append(others, v)
		}
	}
	if len(names) == 0 {
		return e
	}
	var out []any
	add := func(ss ...vehicle.Source) {
		for _, s := range ss {
			out = append(out, string(s))
		}
	}
	switch {
	case sawAlias && sawDealer: // the source parameter
		for _, v := range sourceValues() {
			out = append(out, v)
		}
	case sawAlias: // a row's source: an auction's name or dealer
		add(vehicle.AuctionSources()...)
		out = append(out, registry.DealerAlias)
	case header && sawDealer != sawAuction:
		kind := vehicle.DealerSources()
		if sawAuction {
			kind = vehicle.AuctionSources()
		}
		for _, c := range combinations(kind) {
			out = append(out, c)
		}
	case sawDealer && !sawAuction:
		add(vehicle.DealerSources()...)
	case sawAuction && !sawDealer:
		add(vehicle.AuctionSources()...)
	default:
		add(vehicle.AllSources()...)
	}
	return append(out, others...)
}

// combinations are the non-empty subsets of srcs in their order, joined by
// commas: the values of a header naming some of them.
func combinations(srcs []vehicle.Source) []string {
	var out []string
	for mask := 1; mask < 1<<len(srcs); mask++ {
		var parts []string
		for i, s := range srcs {
			if mask&(1<<i) != 0 {
				parts = append(parts, string(s))
			}
		}
		out = append(out, strings.Join(parts, ","))
	}
	return out
}

// sourceGroup is an alternation of names in a pattern: (encar|danawa).
var sourceGroup = regexp.MustCompile(`\(([a-z]+(?:\|[a-z]+)+)\)`)

// sourcePattern returns p with its lists of sources from the registry: an
// alternation of ids is the registry's id pattern, an alternation of
// source names lists the registered ones of that kind.
func sourcePattern(p string) string {
	isSource := func(s string) bool { return slices.Contains(vehicle.AllSources(), vehicle.Source(s)) }
	if strings.HasPrefix(p, "^(") && strings.HasSuffix(p, ")$") {
		n := 0
		for _, s := range vehicle.AllSources() {
			if strings.Contains(p, "|"+string(s)+"_") || strings.HasPrefix(p, "^("+string(s)+"_") {
				n++
			}
		}
		if n > 1 {
			return registry.IDPattern()
		}
	}
	return sourceGroup.ReplaceAllStringFunc(p, func(g string) string {
		alts := strings.Split(g[1:len(g)-1], "|")
		if slices.ContainsFunc(alts, func(a string) bool { return !isSource(a) }) {
			return g
		}
		kind := vehicle.AllSources()
		if !slices.ContainsFunc(alts, func(a string) bool { return !vehicle.Source(a).IsDealer() }) {
			kind = vehicle.DealerSources()
		} else if !slices.ContainsFunc(alts, func(a string) bool { return !vehicle.Source(a).IsAuction() }) {
			kind = vehicle.AuctionSources()
		}
		names := make([]string, len(kind))
		for i, s := range kind {
			names[i] = string(s)
		}
		return "(" + strings.Join(names, "|") + ")"
	})
}
