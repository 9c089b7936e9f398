package auth

import (
	"mime"
	"net/http"
)

// DefaultCSP is the Content-Security-Policy of HTML pages: same-origin everything, no
// framing, no plugins, forms post only to Vetted.
const DefaultCSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// SecurityHeaders sets headers every response gets (nosniff, no referrer) and, on HTML
// responses, a strict Content-Security-Policy and frame denial. Over TLS it adds HSTS.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(&headerWriter{ResponseWriter: w}, r)
	})
}

type headerWriter struct {
	http.ResponseWriter
	done bool
}

func (hw *headerWriter) WriteHeader(code int) {
	if !hw.done {
		hw.done = true
		h := hw.Header()
		if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			if h.Get("Content-Security-Policy") == "" {
				h.Set("Content-Security-Policy", DefaultCSP)
			}
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
		}
	}
	hw.ResponseWriter.WriteHeader(code)
}

func (hw *headerWriter) Write(b []byte) (int, error) {
	if !hw.done {
		if hw.Header().Get("Content-Type") == "" {
			hw.Header().Set("Content-Type", http.DetectContentType(b))
		}
		hw.WriteHeader(http.StatusOK)
	}
	return hw.ResponseWriter.Write(b)
}

// Flush implements http.Flusher for handlers that stream.
func (hw *headerWriter) Flush() {
	if !hw.done {
		hw.WriteHeader(http.StatusOK)
	}
	if f, ok := hw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (hw *headerWriter) Unwrap() http.ResponseWriter { return hw.ResponseWriter }
