package kcar

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmn/aggregator/sources"
)

func httpClient() *sources.Client {
	return sources.NewClient(sources.ClientConfig{Timeout: 10 * time.Second})
}

// TestListRequest: the request carries every form field the site's page
// sends (a missing one is a 404 there), the headers its WAF wants, the
// session, and the page in the configured paging.
func TestListRequest(t *testing.T) {
	body, err := os.ReadFile(capture)
	require.NoError(t, err)
	var mu sync.Mutex
	var got []*http.Request
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(body)
	}))
	defer site.Close()
	c := NewClient(site.URL, "member-session", httpClient())
	l, err := c.List(context.Background(), ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B", Page: 1})
	require.NoError(t, err)
	assert.Len(t, l.Lots, 100)
	c.Paging = RowOffset
	_, err = c.List(context.Background(), ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B", Page: 3})
	require.NoError(t, err)
	c.Paging, c.PageSize = PageNumber, 50
	_, err = c.List(context.Background(), ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B", Page: 3})
	require.NoError(t, err)
	require.Len(t, got, 3)

	r := got[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, ListPath, r.URL.Path)
	assert.Equal(t, "application/x-www-form-urlencoded; charset=UTF-8", r.Header.Get("Content-Type"))
	assert.Equal(t, "XMLHttpRequest", r.Header.Get("X-Requested-With"))
	assert.Equal(t, "https://www.kcarauction.com", r.Header.Get("Origin"))
	assert.Equal(t, "https://www.kcarauction.com/kcar/auction/weekly_auction/colAuction.do?LANE_TYPE=B&PAGE_TYPE=wCfm", r.Header.Get("Referer"))
	assert.Equal(t, "same-origin", r.Header.Get("Sec-Fetch-Site"))
	ck, err := r.Cookie("JSESSIONID")
	require.NoError(t, err)
	assert.Equal(t, "member-session", ck.Value)
	want := map[string]string{"AUC_TYPE": "weekly", "SRC_OPT": "weekly", "PAGE_TYPE": "wCfm", "LANE_TYPE": "B", "PAGE_CNT": "100", "START_RNUM": "1"}
	for _, k := range strings.Fields(`ORDER MNUFTR_CD MODEL_GRP_CD MODEL_CD OPTION_CD FORM_YR_ST FORM_YR_ED AUC_START_PRC_ST
		AUC_START_PRC_ED MILG_ST MILG_ED CNO FUEL_CD GBOX_DCD COLOR_CD CAR_TYPE CARMD_CD TO_DATE FROM_DATE CAR_STAT_CD
		AUC_SEQ TODAY IPTCAR_DCD AUC_PLC_CD START_DATE END_DATE`) {
		want[k] = ""
	}
	for k, v := range want {
		assert.Equal(t, []string{v}, r.PostForm[k], k)
	}
	assert.Len(t, r.PostForm, len(want), "nothing else is sent")
	assert.Equal(t, "201", got[1].PostForm.Get("START_RNUM"), "row offset: page 3 of 100 rows starts at row 201")
	assert.Equal(t, [2]string{"3", "50"}, [2]string{got[2].PostForm.Get("START_RNUM"), got[2].PostForm.Get("PAGE_CNT")})
}

// TestListRefusals: how the site refuses a call decides the failure kind.
func TestListRefusals(t *testing.T) {
	capt, err := os.ReadFile(capture)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/login/"+ListPath[1:], func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/kcar/user/user_login.do", http.StatusFound)
	})
	mux.HandleFunc("/kcar/user/user_login.do", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		_, _ = w.Write([]byte(`<html><form action="/kcar/user/user_logincheck_ajax.do"></form></html>`))
	})
	mux.HandleFunc("/waf/"+ListPath[1:], func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<html><body>The requested URL was rejected.</body></html>`))
	})
	mux.HandleFunc("/gone/"+ListPath[1:], http.NotFound)
	mux.HandleFunc("/other/"+ListPath[1:], func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(capt)
	})
	mux.HandleFunc("/mislabelled/"+ListPath[1:], func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		_, _ = w.Write(capt)
	})
	site := httptest.NewServer(mux)
	defer site.Close()
	l, err := NewClient(site.URL+"/mislabelled", "", httpClient()).List(context.Background(), ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B"})
	require.NoError(t, err, "JSON labelled text/html is read: the body says what it is")
	assert.Len(t, l.Lots, 100)
	for _, c := range []struct {
		prefix string
		page   ListPage
		want   error
	}{
		{"/login", ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B"}, sources.ErrLogin},
		{"/waf", ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B"}, sources.ErrBlocked},
		{"/gone", ListPage{AucType: "weekly", PageType: "wCfm", Lane: "B"}, sources.ErrBlocked},
		{"/other", ListPage{AucType: "weekly", PageType: "wRst", Lane: "B"}, sources.ErrDrift},
		{"/other", ListPage{AucType: "daily", PageType: "wCfm", Lane: "B"}, sources.ErrDrift},
		{"/other", ListPage{AucType: "weekly", PageType: "wCfm", Lane: "C"}, sources.ErrDrift},
	} {
		_, err := NewClient(site.URL+c.prefix, "", httpClient()).List(context.Background(), c.page)
		assert.ErrorIs(t, err, c.want, "%s %+v", c.prefix, c.page)
	}
}

func TestParsePaging(t *testing.T) {
	for s, want := range map[string]Paging{"page": PageNumber, "row": RowOffset} {
		p, err := ParsePaging(s)
		require.NoError(t, err)
		assert.Equal(t, want, p)
		assert.Equal(t, s, p.String())
	}
	_, err := ParsePaging("offset")
	assert.Error(t, err)
}
