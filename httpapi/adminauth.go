package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

var (
	errAdminToken = &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
		Message: "this admin route needs Authorization: Bearer <the -admin-token>"}
	errAdminContentType = &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "a control request must be Content-Type: application/json, or a form posted from this listener's own pages"}
)

// withAdminToken requires Authorization: Bearer <token> on the routes it
// wraps when token is set (serve refuses an admin listener off loopback
// without one). Any admin route that changes something or reveals the
// process's insides wraps itself in it.
func withAdminToken(token string) middleware {
	want := sha256.Sum256([]byte(token))
	return func(next http.Handler) http.Handler {
		if token == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			// Hashes have equal length, so the comparison takes the same time
			// whatever the guess.
			h := sha256.Sum256([]byte(got))
			if !ok || subtle.ConstantTimeCompare(h[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
				writeError(w, r, nil, errAdminToken)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// withControlGuard refuses a control request a browser could be tricked
// into sending from another site (CSRF). A cross-site page can POST a form
// or text/plain without asking, but not application/json, so JSON passes. A
// form passes only when the browser says it comes from this listener's own
// pages (Sec-Fetch-Site: same-origin, or an Origin equal to this host), which
// is how a status page's own forms may still post.
func withControlGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case mt == "application/json":
		case (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data") && sameOrigin(r):
		default:
			writeError(w, r, nil, errAdminContentType)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether the browser vouches that r comes from a page
// of this host.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
