package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// fuzzNames are stored once; their characters are the ones search must take literally.
var fuzzNames = []string{
	"io.github.Acme/Weather", "com.example/weather-pro", "org.x/my_tool", "org.x/myXtool", "org.x/100%",
	"org.x/back\\slash", "org.x/[brackets]", "org.x/star*glob?", "org.x/quote'\"", "org.x/ÉCOLE-école", "org.x/日本",
}

// FuzzSearch checks ListQuery.Search against its definition on s (which must be empty):
// the servers whose name contains the search string, ASCII letters compared
// case-insensitively, every other character (%, _, \, …) literally; text that is not valid
// UTF-8 is ErrInvalid. Backends call it from a FuzzSearch of their own.
func FuzzSearch(f *testing.F, s registry.Store) {
	ctx := context.Background()
	for i, n := range fuzzNames {
		v := ver(n, "1.0.0", registry.StatusPublished, i)
		if _, _, err := s.CreateVersion(ctx, v); err != nil {
			f.Fatalf("CreateVersion(%s): %v", n, err)
		}
	}
	for _, seed := range []string{"weather", "WEATHER", "%", "_", "\\", "my_t", "[b", "*", "?", "'", "\"", "école", "ÉCOLE", "日本", "o", "\xff", "a\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, search string) {
		if search == "" {
			return // no filter
		}
		vs, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Limit: registry.MaxListLimit, Search: search})
		if !registry.ValidText(search) {
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("search %q (not valid UTF-8 text): err = %v, want ErrInvalid", search, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("search %q: %v", search, err)
		}
		var want []string
		for _, n := range fuzzNames {
			if strings.Contains(asciiLower(n), asciiLower(search)) {
				want = append(want, n+"@1.0.0")
			}
		}
		sort.Strings(want)
		if got := keys(vs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("search %q:\n got  %q\n want %q", search, got, want)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
