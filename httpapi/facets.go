package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/vehicle"
)

// facetsTTL is how long a facets answer is reused.
const facetsTTL = 5 * time.Minute

type facetsJSON struct {
	Makes         []string            `json:"makes"`
	Models        map[string][]string `json:"models"`
	Fuels         []string            `json:"fuels"`
	Transmissions []string            `json:"transmissions"`
	Sources       []string            `json:"sources"`
	AsOf          string              `json:"as_of"`
}

// facetCache keeps one answer per source scope for facetsTTL.
type facetCache struct {
	mu      sync.Mutex
	entries map[string]facetEntry
	now     func() time.Time
}

type facetEntry struct {
	body facetsJSON
	at   time.Time
}

// handleFacets serves GET /v1/vehicles/facets: the values the search
// filters accept, from the auction index (what is on offer) and, for dealer
// sources, the dictionary of makes and models the service can search.
func handleFacets(d Deps) http.HandlerFunc {
	cache := &facetCache{entries: map[string]facetEntry{}, now: time.Now}
	return func(w http.ResponseWriter, r *http.Request) {
		p := &parser{values: r.URL.Query()}
		for k, v := range r.URL.Query() {
			switch {
			case k != "source":
				p.add(k, "unknown parameter; facets takes only source")
			case len(v) > 1:
				p.add(k, "given %d times; give it once", len(v))
			}
		}
		srcs := parseSources(p)
		if len(p.issues) > 0 {
			writeError(w, r, d.Log, validationError(p.issues))
			return
		}
		key := sourceList(srcs)
		now := cache.now()
		cache.mu.Lock()
		e, ok := cache.entries[key]
		if !ok || now.Sub(e.at) >= facetsTTL {
			e = facetEntry{body: buildFacets(srcs, d.Search.AuctionRows(srcs), now), at: now}
			cache.entries[key] = e
		}
		cache.mu.Unlock()
		w.Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(int((facetsTTL-now.Sub(e.at)).Seconds())))
		writeJSONCached(w, http.StatusOK, e.body)
	}
}

// buildFacets lists the values of srcs: a dealer source contributes every
// name the dictionary knows, an auction source the values of its index's
// rows (auctions holds each needed index's rows; none before it has loaded).
func buildFacets(srcs []vehicle.Source, auctions [][]vehicle.Vehicle, now time.Time) facetsJSON {
	f := facetsJSON{Models: map[string][]string{}, Fuels: []string{}, Transmissions: []string{}, AsOf: now.In(vehicle.KST).Format(time.RFC3339)}
	for _, s := range srcs {
		f.Sources = append(f.Sources, string(s))
	}
	addModel := func(mk, md string) {
		if !slices.Contains(f.Models[mk], md) {
			f.Models[mk] = append(f.Models[mk], md)
		}
	}
	dealer := slices.ContainsFunc(srcs, vehicle.Source.IsDealer)
	if dealer {
		for _, mk := range korean.Makes() {
			for _, md := range mk.Models {
				addModel(mk.English, md.English)
			}
		}
		f.Fuels = slices.Clone(vehicle.Fuels)
		f.Transmissions = slices.Clone(vehicle.Transmissions)
	}
	for _, rows := range auctions {
		for _, v := range rows {
			mk, ok := korean.MakeByEnglish(v.Make)
			if !ok {
				continue // an untranslated make cannot be searched by its English name
			}
			if _, ok := mk.ModelByEnglish(v.Model); ok {
				addModel(mk.English, v.Model)
			}
			if v.Fuel != "" && !slices.Contains(f.Fuels, v.Fuel) {
				f.Fuels = append(f.Fuels, v.Fuel)
			}
			if v.Transmission != "" && !slices.Contains(f.Transmissions, v.Transmission) {
				f.Transmissions = append(f.Transmissions, v.Transmission)
			}
		}
	}
	for mk, models := range f.Models {
		slices.Sort(models)
		f.Makes = append(f.Makes, mk)
	}
	slices.Sort(f.Makes)
	if f.Makes == nil {
		f.Makes = []string{}
	}
	slices.Sort(f.Fuels)
	slices.Sort(f.Transmissions)
	return f
}
