// Package strictjson decodes an untrusted JSON document into a Go value with exactly one
// meaning.
//
// encoding/json (and huma, and many clients) match object keys to struct fields without
// regard to case, under Unicode simple case folding: "Name", "NAME" and "name" all fill the
// same field, and "pac\u212Aages" (Kelvin sign) fills Packages. When one component decides
// with such a decoder and another stores or serves the raw keys, a document can mean two
// things (issue 17: a spoofed server name, a smuggled unsigned package). Decode walks the
// document's tokens against the target type first and refuses, naming the key:
//   - a key that is not the exact json name of a field where the type has fixed fields,
//     with a distinct message when it differs from a known key only by letter case;
//   - duplicate keys, and sibling keys equal under case folding, in every object (also in
//     free-form maps, where two decoders could still pick different entries);
//   - values of the wrong JSON type, and values that break the huma-style constraints in
//     the struct tags (required, minLength, maxLength, pattern, items.pattern, enum,
//     format:"uri"), so that the rules of the official schema hold without huma;
//   - nesting deeper than a bound.
//
// Only a document that passes is decoded, by encoding/json into the target; by then every
// key is exact and unique, so its case-insensitive matching has nothing left to choose.
// Errors are bounded (at most Options.MaxErrors, then a count) and never echo values.
//
// It is its own package because the registry (server.json), the CLI and the tests all need
// the same decoder, and because it is a parser of untrusted input with its own fuzz target.
package strictjson
