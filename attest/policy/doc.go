// Package policy is Vetted's verification policy: which authorities (keys, keyless
// identities) are trusted, which evidence (signature, SBOM, provenance, tool manifest) is
// required and from whom, the transparency-log, timestamp and certificate-transparency
// thresholds, and the allowed builders, source repository and refs.
//
// It is a package of its own because policies come from operators and publishers as YAML and
// must be parsed strictly (unknown fields and duplicate keys are errors that name the field
// path), validated once, and then used by the verifier and by the registry that maps
// namespaces to policies. Every weakening of the defaults has Unsafe in its name.
package policy
