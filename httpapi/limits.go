package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Request size limits. Every one is far above what a real search needs, and
// each bounds the CPU or the answer a single request can cost: a 900 KB
// keyword took seconds of matching, a 50,000-value list an error body of
// megabytes.
const (
	MaxQueryBytes    = 4096 // the whole query string, cursor included
	MaxKeywordChars  = 100
	MaxValuesPerList = 50 // values of one comma-separated parameter
	MaxIssues        = 20 // issues listed in one validation_error
)

// withRequestLimits answers a request over a size limit with a 400 that
// names the limit, before the query is parsed any further.
func withRequestLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if issues := limitIssues(r.URL.RawQuery); len(issues) > 0 {
			writeError(w, r, nil, validationError(issues))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func limitIssues(raw string) []Issue {
	if len(raw) > MaxQueryBytes {
		return []Issue{{Path: "query", Message: fmt.Sprintf("the query string is %d bytes; the limit is %d", len(raw), MaxQueryBytes)}}
	}
	var issues []Issue
	for _, pair := range strings.Split(raw, "&") {
		name, value, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(name)
		value, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil || name == "cursor" {
			continue // malformed pairs are the query check's to report
		}
		switch {
		case name == "keyword" && utf8.RuneCountInString(value) > MaxKeywordChars:
			issues = append(issues, Issue{Path: name, Message: fmt.Sprintf("keyword is %d characters; the limit is %d", utf8.RuneCountInString(value), MaxKeywordChars)})
		case strings.Count(value, ",")+1 > MaxValuesPerList:
			issues = append(issues, Issue{Path: name, Message: fmt.Sprintf("%d values; the limit is %d per parameter", strings.Count(value, ",")+1, MaxValuesPerList)})
		}
	}
	return capIssues(issues)
}

// capIssues keeps an error body small whatever the request: past MaxIssues
// the rest are counted, not listed.
func capIssues(issues []Issue) []Issue {
	if len(issues) <= MaxIssues {
		return issues
	}
	more := len(issues) - MaxIssues + 1
	return append(issues[:MaxIssues-1:MaxIssues-1], Issue{Path: "query", Message: fmt.Sprintf("%d more issues not listed", more)})
}
