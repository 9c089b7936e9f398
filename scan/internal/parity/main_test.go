package parity

import (
	"io"
	"log"
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// osv-scanner logs every scan step; keep test output readable.
	log.SetOutput(io.Discard)
	slog.SetDefault(slog.New(slog.DiscardHandler))
	code := m.Run()
	for _, r := range benchRoots {
		os.RemoveAll(r)
	}
	os.Exit(code)
}
