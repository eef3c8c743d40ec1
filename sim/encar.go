package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	// Names may hold parentheses ("KG모빌리티(쌍용)"), never a dot.
	manufacturerRe = regexp.MustCompile(`Manufacturer\.([^._]+)\.`)
	modelGroupRe   = regexp.MustCompile(`ModelGroup\.([^._]+)\.`)
	rangeRe        = regexp.MustCompile(`(Price|Mileage|Year)\.range\((\d+)\.\.(\d+)\)`)
)

// encarFilter reads the q expression: each Manufacturer term owns the
// ModelGroup terms that follow it up to the next Manufacturer; Price,
// Mileage and Year ranges apply to every row.
func encarFilter(q string) func(c *car) bool {
	groups := map[string][]string{}
	locs := manufacturerRe.FindAllStringSubmatchIndex(q, -1)
	for i, loc := range locs {
		end := len(q)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		mk := q[loc[2]:loc[3]]
		if _, ok := groups[mk]; !ok {
			groups[mk] = nil // a make with no model term: all its models
		}
		for _, m := range modelGroupRe.FindAllStringSubmatch(q[loc[1]:end], -1) {
			groups[mk] = append(groups[mk], m[1])
		}
	}
	ranges := map[string][2]int{}
	for _, m := range rangeRe.FindAllStringSubmatch(q, -1) {
		lo, _ := strconv.Atoi(m[2])
		hi, _ := strconv.Atoi(m[3])
		ranges[m[1]] = [2]int{lo, hi}
	}
	in := func(field string, v int) bool {
		r, ok := ranges[field]
		return !ok || (v >= r[0] && v <= r[1])
	}
	return func(c *car) bool {
		if !in("Price", c.price) || !in("Mileage", c.km) || !in("Year", c.regYM) {
			return false
		}
		if len(groups) == 0 {
			return true
		}
		mg, ok := groups[c.m.make_]
		return ok && (len(mg) == 0 || slices.Contains(mg, c.m.group))
	}
}

// sortCars sorts as the sites do; ties are broken by the ids as the public
// API spells them, compared as text (every id of a site has the same
// prefix, so the prefix is left out).
func sortCars(cars []*car, code string) {
	slices.SortFunc(cars, func(a, b *car) int { // total: ties broken by id
		var c int
		switch code {
		case "PriceAsc":
			c = a.price - b.price
		case "PriceDesc":
			c = b.price - a.price
		case "MileageAsc":
			c = a.km - b.km
		case "Year": // Danawa's 연식순: model year
			c = b.year - a.year
		case "Registration": // Encar's Year: first registration, as the real API sorts
			c = b.regYM - a.regYM
		default:
			c = b.modified.Compare(a.modified)
		}
		if c != 0 {
			return c
		}
		var x, y [20]byte
		return bytes.Compare(strconv.AppendInt(x[:0], int64(a.id), 10), strconv.AppendInt(y[:0], int64(b.id), 10))
	})
}

func (s *Sim) encarSearch(r *http.Request, drift bool) page {
	return s.lists.get(r, drift, func() page { return s.renderEncarSearch(r, drift) })
}

func (s *Sim) renderEncarSearch(r *http.Request, drift bool) page {
	q := r.URL.Query()
	parts := strings.Split(q.Get("sr"), "|")
	if len(parts) != 4 {
		return page{http.StatusBadRequest, "application/json", []byte(`{"message":"bad sr"}`)}
	}
	offset, err1 := strconv.Atoi(parts[2])
	count, err2 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil || offset < 0 || count < 0 || count > 1000 {
		return page{http.StatusBadRequest, "application/json", []byte(`{"message":"bad sr"}`)}
	}
	keep := encarFilter(q.Get("q"))
	var matched []*car
	for i := range s.encar {
		if !s.encar[i].sold && keep(&s.encar[i]) {
			matched = append(matched, &s.encar[i])
		}
	}
	code := parts[1]
	if code == "Year" {
		code = "Registration"
	}
	sortCars(matched, code)
	if offset > 10000 {
		offset = 10000 // like the real API: past 10,000 the same page again
	}
	rows := []map[string]any{}
	for i := offset; i < len(matched) && i < offset+count; i++ {
		rows = append(rows, encarRow(matched[i], i))
	}
	body := map[string]any{"Count": len(matched), "SearchResults": rows}
	if drift {
		body = map[string]any{"count": len(matched), "results": rows}
	}
	b, _ := json.Marshal(body)
	return page{http.StatusOK, "application/json;charset=UTF-8", b}
}

// encarRow renders a car the way the search API does, numbers in whichever
// form the real API happens to use for them.
func encarRow(c *car, i int) map[string]any {
	id := strconv.Itoa(c.id)
	dir := fmt.Sprintf("/carpicture%02d/pic%s/%s_", c.id%10, id[:4], id)
	trans := "오토"
	if !c.auto {
		trans = "수동"
	}
	row := map[string]any{
		"Id": id, "Separation": []string{"B"}, "Trust": []string{}, "ServiceMark": []string{},
		"Condition": []string{"Inspection", "Record"}, "Photo": dir,
		"Photos": []map[string]any{
			{"type": "001", "location": dir + "001.jpg", "updatedDate": "2025-06-01T02:00:11Z", "ordering": 1},
			{"type": "003", "location": dir + "003.jpg", "updatedDate": "2025-06-01T02:00:11Z", "ordering": 3},
		},
		"Manufacturer": c.m.make_, "Model": c.gen, "Badge": c.trim, "GreenType": "N", "FuelType": c.fuel,
		"Transmission": trans, "Year": c.regYM, "FormYear": strconv.Itoa(c.year), "Mileage": c.km,
		"ServiceCopyCar": "ORIGINAL", "Price": c.price, "SellType": c.sellType, "BuyType": []string{},
		"OfficeCityState": c.city, "ModifiedDate": c.modified.Format("2006-01-02 15:04:05.000") + " +09",
	}
	if c.detail != "" {
		row["BadgeDetail"] = c.detail
	}
	if c.dup {
		row["ServiceCopyCar"] = "DUPLICATION"
	}
	switch i % 3 { // the real API mixes int, float and string numbers
	case 1:
		row["Year"], row["Mileage"], row["Price"] = float64(c.regYM), float64(c.km), float64(c.price)
	case 2:
		row["Price"], row["FormYear"] = strconv.Itoa(c.price), c.year
	}
	return row
}

func encarBlocked() page {
	return page{http.StatusOK, "text/html; charset=utf-8", []byte(`<!DOCTYPE html><html><head><title>Encar</title></head>
<body><div class="captcha"><p>비정상적인 접근이 감지되었습니다. 자동입력 방지 문자를 입력해 주세요.</p></div></body></html>`)}
}

func (s *Sim) encarDetail(r *http.Request, drift bool) page {
	id, err := strconv.Atoi(r.PathValue("id"))
	var c *car
	if err == nil {
		for i := range s.encar {
			if s.encar[i].id == id {
				c = &s.encar[i]
				break
			}
		}
	}
	if c == nil {
		return page{http.StatusNotFound, "application/json", []byte(`{"message":"vehicle not found"}`)}
	}
	status := "ADVERTISE"
	if c.sold {
		status = "SOLD"
	}
	trans := "오토"
	if !c.auto {
		trans = "수동"
	}
	sid := strconv.Itoa(c.id)
	dir := fmt.Sprintf("/carpicture%02d/pic%s/%s_", c.id%10, sid[:4], sid)
	ad := map[string]any{"type": "CAR", "price": c.price, "status": status, "salesStatus": nil}
	adKey := "advertisement"
	if drift {
		adKey = "advert"
	}
	body := map[string]any{
		"manage": map[string]any{"registDateTime": c.modified.Add(-48 * time.Hour).Format("2006-01-02T15:04:05"),
			"firstAdvertisedDateTime": c.modified.Format("2006-01-02T15:04:05")},
		"category": map[string]any{"type": "CAR", "manufacturerName": c.m.make_, "modelName": c.gen, "modelGroupName": c.m.group,
			"gradeName": c.trim, "gradeEnglishName": nil, "yearMonth": strconv.Itoa(c.regYM), "formYear": strconv.Itoa(c.year),
			"domestic": c.m.domestic},
		adKey:     ad,
		"contact": map[string]any{"userType": "DEALER", "address": c.city + " 어딘가로 1"},
		"spec": map[string]any{"type": "CAR", "mileage": c.km, "displacement": c.m.cc, "transmissionName": trans,
			"fuelName": c.fuel, "colorName": c.color},
		"photos": []map[string]any{
			{"code": "001", "path": dir + "001.jpg", "type": "OUTER"},
			{"code": "003", "path": dir + "003.jpg", "type": "OUTER"},
		},
		"partnership": map[string]any{"dealer": map[string]any{"firm": map[string]any{"name": "시뮬모터스"}}},
		"vehicleId":   c.id,
		"vehicleNo":   c.plate,
		"vin":         fmt.Sprintf("KNA%014d", c.id),
	}
	b, _ := json.Marshal(body)
	return page{http.StatusOK, "application/json;charset=UTF-8", b}
}
