package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kcarForm is the list request the site's own page sends.
func kcarForm(pageType, lane string, page, size int) url.Values {
	f := url.Values{}
	for _, k := range kcarListFields {
		f.Set(k, "")
	}
	f.Set("AUC_TYPE", "weekly")
	f.Set("SRC_OPT", "weekly")
	f.Set("PAGE_TYPE", pageType)
	f.Set("LANE_TYPE", lane)
	f.Set("PAGE_CNT", strconv.Itoa(size))
	f.Set("START_RNUM", strconv.Itoa(page))
	return f
}

type kcarAnswer struct {
	Echo map[string]any   `json:"auctionReqVo"`
	Rows []map[string]any `json:"CAR_LIST"`
}

func postKCar(t *testing.T, h http.Handler, f url.Values) (*httptest.ResponseRecorder, kcarAnswer) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/kcar/auction/getAuctionCarList_ajax.do", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var a kcarAnswer
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
	}
	return rec, a
}

// TestKCarAges: before an auction its lots are upcoming; once bidding
// closes each has its result; unsold cars come back the next week with
// the same plate, some under a new car record.
func TestKCarAges(t *testing.T) {
	s := New()
	auction := time.Date(2025, 6, 19, 13, 0, 0, 0, kst)
	count := func() (upcoming, decided int) {
		for _, l := range s.KCarLots() {
			if l.Date.Equal(auction) {
				if l.Status == "upcoming" {
					upcoming++
				} else {
					decided++
				}
			}
		}
		return
	}
	u, d := count()
	assert.Zero(t, d, "no result before the auction")
	assert.Greater(t, u, 100)
	s.SetNow(auction.Add(time.Hour))
	u1, d1 := count()
	assert.Equal(t, [2]int{u, 0}, [2]int{u1, d1}, "upcoming while bidding is open")
	s.SetNow(auction.Add(KCarWindow))
	u2, d2 := count()
	assert.Zero(t, u2, "every lot has its result once bidding closes")
	assert.Equal(t, u, d2)

	s.SetNow(kcarAuctions[len(kcarAuctions)-1].end())
	byPlate := map[string][]KCarLot{}
	for _, l := range s.KCarLots() {
		byPlate[l.Plate] = append(byPlate[l.Plate], l)
	}
	again, newRecord := 0, 0
	for _, ls := range byPlate {
		if len(ls) > 1 {
			again++
			for _, l := range ls[:len(ls)-1] {
				require.Equal(t, "no_bid", l.Status, "only an unsold car comes back")
				require.True(t, l.Date.Before(ls[len(ls)-1].Date))
			}
			if ls[0].CarID != ls[1].CarID {
				newRecord++
			}
		}
	}
	assert.Greater(t, again, 50, "unsold cars come back")
	assert.Greater(t, newRecord, 10, "some under a new CAR_ID")
}

// TestKCarList: the answer has the real shape (every row the same 236
// keys, all strings but three counters), pages by page number in exhibit
// order, and shows the next auction on wCfm and the last on wRst.
func TestKCarList(t *testing.T) {
	s := New()
	h := s.KCar()
	want := map[string][]KCarLot{} // "page lane" → lots, in exhibit order
	for _, l := range s.KCarLots() {
		if l.Listed {
			want[l.PageType+" "+l.Lane] = append(want[l.PageType+" "+l.Lane], l)
		}
	}
	require.NotEmpty(t, want["wCfm B"])
	require.NotEmpty(t, want["wRst B"])
	for _, key := range []string{"wCfm A", "wCfm B", "wCfm C", "wCfm D", "wRst B"} {
		pt, lane, _ := strings.Cut(key, " ")
		var ids []string
		for p := 1; ; p++ {
			rec, a := postKCar(t, h, kcarForm(pt, lane, p, 40))
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, lane, a.Echo["LANE_TYPE"])
			assert.EqualValues(t, 40, a.Echo["PAGE_CNT"])
			for _, r := range a.Rows {
				require.Len(t, r, 236)
				for k, v := range r {
					if k == "CMN_CD_CNT" || k == "pageCalc" || k == "totalCount" {
						assert.EqualValues(t, 0, v)
						continue
					}
					require.IsType(t, "", v, k)
				}
				assert.Empty(t, r["LANE_TYPE"], "rows do not say their lane")
				ids = append(ids, "kcar_"+strings.ToLower(r["AUC_CD"].(string))+"_"+r["EXBIT_SEQ"].(string))
				if pt == "wCfm" {
					assert.Equal(t, "출품마감", r["AUC_STAT_NM"])
				}
			}
			if len(a.Rows) < 40 {
				break
			}
		}
		var wantIDs []string
		for _, l := range want[key] {
			wantIDs = append(wantIDs, l.ID)
		}
		for i := 1; i < len(wantIDs); i++ { // exhibit order: numbers share their prefix within a lane
			for j := i; j > 0 && len(wantIDs[j]) == len(wantIDs[j-1]) && wantIDs[j] < wantIDs[j-1]; j-- {
				wantIDs[j], wantIDs[j-1] = wantIDs[j-1], wantIDs[j]
			}
		}
		assert.Equal(t, wantIDs, ids, key)
	}
	assert.Empty(t, want["wCfm D"], "lane D is empty")

	// The results page says what happened.
	_, a := postKCar(t, h, kcarForm("wRst", "B", 1, 100))
	words := map[string]int{}
	for _, r := range a.Rows {
		words[r["AUC_STAT_NM"].(string)+"/"+r["AUC_RESULT"].(string)]++
	}
	assert.Greater(t, words["낙찰/Y"], 0)
	assert.Greater(t, words["유찰/N"], 0)
}

// TestKCarRefusals: the site's ways of refusing a call.
func TestKCarRefusals(t *testing.T) {
	s := New()
	h := s.KCar()
	f := kcarForm("wCfm", "B", 1, 100)
	f.Del("IPTCAR_DCD")
	rec, _ := postKCar(t, h, f)
	assert.Equal(t, http.StatusNotFound, rec.Code, "a missing form field is Tomcat's 404")

	f = kcarForm("wCfm", "B", 1, 500)
	_, a := postKCar(t, h, f)
	assert.EqualValues(t, 100, a.Echo["PAGE_CNT"], "100 rows at most")
	f.Set("AUC_TYPE", "daily")
	rec, a = postKCar(t, h, f)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, a.Rows, "another auction type: an empty list")

	require.NoError(t, s.SetFault(KCarName, Fault{Mode: Blocked}))
	rec, _ = postKCar(t, h, kcarForm("wCfm", "B", 1, 100))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "user_login.do", "an expired session gets the login page")

	require.NoError(t, s.SetFault(KCarName, Fault{Mode: Drift}))
	_, a = postKCar(t, h, kcarForm("wCfm", "B", 1, 100))
	require.NotEmpty(t, a.Rows)
	assert.NotContains(t, a.Rows[0], "MILG")
	assert.Contains(t, a.Rows[0], "MILEAGE")

	s.Reset()
	assert.Equal(t, Healthy, s.fault(KCarName).Mode, "Reset covers K Car")
	assert.Error(t, s.SetFault("nosuch", Fault{Mode: Healthy}))
	assert.Positive(t, s.Hits(KCarName))
}

// TestKCarLotsSayWhatTheRowsSay: the inventory tests compute expectations
// from names the rows carry, in K Car's own words.
func TestKCarLotsSayWhatTheRowsSay(t *testing.T) {
	s := New()
	byID := map[string]KCarLot{}
	for _, l := range s.KCarLots() {
		byID[l.ID] = l
	}
	_, a := postKCar(t, s.KCar(), kcarForm("wCfm", "B", 1, 100))
	require.NotEmpty(t, a.Rows)
	for _, r := range a.Rows {
		l, ok := byID["kcar_"+strings.ToLower(r["AUC_CD"].(string))+"_"+r["EXBIT_SEQ"].(string)]
		require.True(t, ok)
		assert.Equal(t, [4]string{l.KCarMake, l.KCarModel, l.TrimLarge, l.TrimSmall},
			[4]string{r["MNUFTR_NM"].(string), r["MODEL_NM"].(string), r["GRD_LCSF_NM"].(string), r["GRD_SCSF_NM"].(string)})
		assert.Equal(t, [3]string{l.Plate, l.CarID, l.Color}, [3]string{r["CNO"].(string), r["CAR_ID"].(string), r["EXTERIOR_COLOR_NM"].(string)})
		assert.Equal(t, l.Grade, r["CAR_POINT2"].(string)+r["CAR_POINT"].(string))
		assert.Equal(t, strconv.Itoa(l.PriceWon), r["AUC_STRT_PRC"])
		assert.Equal(t, strconv.Itoa(l.MileageKm), r["MILG"])
	}
}
