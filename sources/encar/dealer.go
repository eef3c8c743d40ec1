package encar

import (
	"context"
	"math"
	"strconv"

	"github.com/lmn/aggregator/dealer"
	"github.com/lmn/aggregator/vehicle"
)

// Dealer reads Encar's search for the search service.
type Dealer struct{ Client *Client }

// Source is encar.
func (d *Dealer) Source() vehicle.Source { return vehicle.Encar }

// Read makes one search call from r.From (an offset in Encar's order).
// Rows Encar lists but the service never serves (lease, rental and
// duplicate ads) take positions but are not returned. Encar's ceiling at
// offset 10,000 is its end.
func (d *Dealer) Read(ctx context.Context, r dealer.Request) (*dealer.Batch, error) {
	b := &dealer.Batch{Next: r.From}
	if r.From >= MaxOffset {
		b.Exhausted = true // Encar repeats its last page past here: the walk ends
		return b, nil
	}
	count := min(MaxCount, MaxOffset-r.From, max(r.Want, 20))
	l, err := d.Client.Search(ctx, Pushdown(r.Query, r.From, count))
	b.Calls = 1
	if err != nil {
		return nil, err
	}
	b.Rows = make([]dealer.Row, len(l.Rows))
	for i := range l.Rows {
		b.Rows[i] = dealer.Row{V: &l.Rows[i], Pos: r.From + l.Pos[i]}
	}
	b.Next = r.From + l.Raw
	b.Exhausted = l.Raw == 0 || b.Next >= l.Total || b.Next >= MaxOffset
	return b, nil
}

// CannotMatch: Encar's list rows carry no colour and no options.
func (d *Dealer) CannotMatch(q vehicle.Query) bool { return len(q.Colors) > 0 || len(q.Options) > 0 }

// Count is Encar's own total for what of q it can be asked.
func (d *Dealer) Count(ctx context.Context, q vehicle.Query) (int, error) {
	l, err := d.Client.Search(ctx, Pushdown(q, 0, 0))
	if err != nil {
		return 0, err
	}
	return l.Total, nil
}

// Pushdown is what of q Encar can be asked: makes, models and ranges.
// Prices are widened to whole 만원 so rounding never drops a car. Model
// years are not pushed down exactly (Encar's Year is the first
// registration), only the registration range that RegistrationLead and
// RegistrationLag allow for them.
func Pushdown(q vehicle.Query, offset, count int) Search {
	es := Search{Makes: q.Makes, Models: q.Models, Sort: q.Sort, Offset: offset, Count: count, MileageMaxKm: q.MileageMaxKm}
	if q.PriceMinUSD != nil || q.PriceMaxUSD != nil {
		lo, hi := 0, noUpperBound
		if q.PriceMinUSD != nil {
			lo = int(math.Floor((float64(*q.PriceMinUSD) - 0.5) * q.FXRate / 10000))
			lo = max(lo, 0)
		}
		if q.PriceMaxUSD != nil {
			hi = int(math.Ceil((float64(*q.PriceMaxUSD) + 0.5) * q.FXRate / 10000))
		}
		es.PriceManwon = &[2]int{lo, hi}
	}
	if q.YearMin > 0 {
		from := (q.YearMin - RegistrationLead) * 100
		es.RegisteredFrom = &from
	}
	if q.YearMax > 0 {
		to := (q.YearMax+RegistrationLag)*100 + 12
		es.RegisteredTo = &to
	}
	return es
}

// Encar's year sort orders by first registration, not by model year. The
// service relies on every car being registered between RegistrationLead
// years before its model year (a 2025 model sold in 2024) and
// RegistrationLag years after it (a car that sat in stock, or an import
// registered late). A car registered later than that can be missed by a
// year_desc walk of Encar.
const (
	RegistrationLead = 1
	RegistrationLag  = 2
)

// Order is how Encar's order for s relates to s.
func (d *Dealer) Order(s vehicle.Sort) dealer.Order {
	if s == vehicle.SortYearDesc {
		return registrationOrder{}
	}
	return dealer.SameOrder{Sort: s}
}

// registrationOrder is year_desc read from Encar's registration order.
type registrationOrder struct{}

// Frontier: once a row registered in year R is read, every car registered
// after R has been read, and with it every car of a model year after
// R+RegistrationLead.
func (registrationOrder) Frontier(last *vehicle.Vehicle) *vehicle.Vehicle {
	return &vehicle.Vehicle{Year: registered(last) + RegistrationLead}
}

// Passed: a car registered after bound's year + RegistrationLag has a model
// year after bound's, and so has every car Encar lists before it.
func (registrationOrder) Passed(r, bound *vehicle.Vehicle) bool {
	if bound.Year <= 0 {
		return r.Year > 0 // a bound with no year sorts after every year
	}
	return registered(r) > bound.Year+RegistrationLag
}

func (registrationOrder) TwinFloor(bound *vehicle.Vehicle) *vehicle.Vehicle { return bound }

// registered is the year of first registration ("YYYY-MM"), or the model
// year when the row does not say.
func registered(v *vehicle.Vehicle) int {
	if len(v.FirstRegistration) >= 4 {
		if y, err := strconv.Atoi(v.FirstRegistration[:4]); err == nil {
			return y
		}
	}
	return v.Year
}
