package vsa

import (
	"crypto/sha256"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

func dssePAE(payload []byte) []byte { return dsse.PAE(PayloadType, payload) }

func sha256Sum(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
