package loadgen

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"
)

// UniqueTerms hands out search terms that are never repeated within a run and that each
// match exactly one server of the data set (its five versions): the k-th term is a substring
// of the name of server perm[k mod servers] that contains its whole "org<number>/" (so no
// other name contains it), and each round over the servers takes the next such substring
// (another start or end). A run therefore measures the store's search, never the response
// cache (which keys on the normalized query).
type UniqueTerms struct {
	servers int
	perm    []int32
	next    atomic.Uint64
}

// NewUniqueTerms returns the generator for a data set of servers, starting at term number
// offset (give each load run of one server process its own range), servers drawn in an
// order fixed by seed.
func NewUniqueTerms(servers int, offset uint64, seed uint64) *UniqueTerms {
	u := &UniqueTerms{servers: servers, perm: make([]int32, servers)}
	for i := range u.perm {
		u.perm[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(servers, func(i, j int) { u.perm[i], u.perm[j] = u.perm[j], u.perm[i] })
	u.next.Store(offset)
	return u
}

// Next returns the next term (safe for concurrent use).
func (u *UniqueTerms) Next() string { return u.Term(u.next.Add(1) - 1) }

// Issued is the number of the next term to hand out.
func (u *UniqueTerms) Issued() uint64 { return u.next.Load() }

// Term returns term number k.
func (u *UniqueTerms) Term(k uint64) string {
	i := int(u.perm[k%uint64(u.servers)])
	return Window(Name(i), k/uint64(u.servers))
}

// Window returns substring number v of name that contains name's "org…/" part: starts run
// back from "org" to the beginning, ends forward from "/" to the end (wrapping when v passes
// their product).
func Window(name string, v uint64) string {
	org := strings.Index(name, "org")
	slash := strings.IndexByte(name, '/')
	starts, ends := uint64(org+1), uint64(len(name)-slash)
	v %= starts * ends
	a := org - int(v%starts)
	b := slash + 1 + int(v/starts)
	return name[a:b]
}

// Windows is how many distinct terms name yields.
func Windows(name string) int {
	return (strings.Index(name, "org") + 1) * (len(name) - strings.IndexByte(name, '/'))
}

// Capacity is how many distinct terms a data set of servers yields (every name has at
// least this many windows per server).
func Capacity(servers int) uint64 {
	least := Windows(Name(0))
	for i := 1; i < min(servers, len(Words)*len(Words)); i++ {
		least = min(least, Windows(Name(i)))
	}
	return uint64(servers) * uint64(least)
}
