package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
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

// BenchmarkGzipPage50 compresses a 50-row answer as the API sends it to a
// client that accepts gzip, and reports the bytes sent.
func BenchmarkGzipPage50(b *testing.B) {
	date := time.Date(2025, 6, 20, 13, 0, 0, 0, vehicle.KST)
	models := []string{"Avante", "Sonata", "Grandeur", "Tucson", "Santa Fe"}
	trims := []string{"1.6 인스퍼레이션", "2.0 프리미엄", "하이브리드 2.4 익스클루시브", "디젤 2.2 4WD 노블레스", "1.6T 모던"}
	page := make([]vehicle.Vehicle, 50)
	for i := range page {
		id := 38_000_000 + i*7919
		page[i] = vehicle.Vehicle{ID: fmt.Sprintf("encar_%d", id), Source: vehicle.Encar, Make: "Hyundai",
			Model: models[i%len(models)], Trim: trims[i*7%len(trims)], Year: 2012 + i*3%13, MileageKm: 9_000 + i*13_711%180_000,
			Fuel: "gasoline", Transmission: "auto", PriceKRW: int64(4_000_000 + i*173_000),
			PhotoURL: fmt.Sprintf("https://ci.encar.com/carpicture/carpicture03/pic%d/%d_001.jpg", id/10_000, id),
			ListedAt: date.Add(time.Duration(i*7919) * time.Second)}
	}
	var body bytes.Buffer
	writeList(httptest.NewRecorder(), page, 1350, nil) // warm the encoder's buffers
	rec := httptest.NewRecorder()
	writeList(rec, page, 1350, nil)
	body.Write(rec.Body.Bytes())
	h := withGzip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body.Bytes())
	}))
	req := httptest.NewRequest(http.MethodGet, "/v1/vehicles", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	var sent int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		sent = w.Body.Len()
	}
	b.ReportMetric(float64(body.Len()), "json-bytes")
	b.ReportMetric(float64(sent), "sent-bytes")
}
