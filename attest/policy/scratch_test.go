package policy
import "testing"
func TestScratch(t *testing.T) {
	p, err := Parse([]byte(`
authorities:
  - name: k
    key: {pem: "x", validUntil: 2024-01-01T00:00:00Z}
  - name: ci
    keyless: {issuer: a, subjct: b}
`))
	t.Log(p, err)
	p, err = Parse([]byte("authorities:\n  - name: k\n    key: {pem: x, validUntil: 2024-01-01T00:00:00Z}\nrequire: {signature: yes}\n"))
	t.Log(p, err)
	p, err = Parse([]byte("authorities:\n  - name: k\n    key: {pem: x, validUntil: 2024-01-01T00:00:00Z}\nrequire: {signature: true}\n"))
	t.Log(p.Authorities[0].Key.ValidUntil, err)
	p, err = Parse([]byte("authorities: []\nauthorities: []\n"))
	t.Log(p, err)
}
