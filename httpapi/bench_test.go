package httpapi

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lmn/aggregator/merge"
	"github.com/lmn/aggregator/vehicle"
)

// BenchmarkMergeEncodePage200 is the performance budget's "merge + encode of
// a 200-row page": three sorted sources merged, rendered and JSON-encoded.
func BenchmarkMergeEncodePage200(b *testing.B) {
	lists := make([][]*vehicle.Vehicle, 3)
	date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST)
	for s := range lists {
		for i := range 200 {
			v := vehicle.Vehicle{ID: fmt.Sprintf("encar_%d%04d", s, i), Source: vehicle.Encar, Make: "Kia", Model: "Sorento",
				Trim: "디젤 2.2 4WD 노블레스", Year: 2021, MileageKm: 40000 + i, Fuel: "diesel", Transmission: "auto",
				Options: []string{"navigation"}, PriceKRW: int64(20_000_000 + i*10_000 + s), PhotoURL: "https://ci.encar.com/x.jpg", ListedAt: date}
			if s == 0 {
				v.Source, v.ID = vehicle.Glovis, fmt.Sprintf("glovis_20250620_3100_%d", 1000+i)
				v.Auction = &vehicle.Auction{Date: date, Site: "Yangsan", LotNumber: 1000 + i, Round: 946, Status: "upcoming", Count: 1}
				v.AccidentGrade, v.ExteriorGrade = "A", "B"
			}
			lists[s] = append(lists[s], &v)
		}
	}
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		page, _ := merge.Page(vehicle.SortPriceAsc, 200, lists...)
		w.Body.Reset()
		writeList(w, page, 1350, nil)
	}
}
