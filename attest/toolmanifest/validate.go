package toolmanifest

import (
	"fmt"
	"strings"
)

// Known members of a tool under the MCP 2025-11-25 schema, with the JSON type each must have.
var toolFields = map[string]Kind{
	"name":         String,
	"title":        String,
	"description":  String,
	"inputSchema":  Object,
	"outputSchema": Object,
	"annotations":  Object,
	"icons":        Array,
	"_meta":        Object,
	"execution":    Object,
}

var annotationFields = []string{"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}

// schemaKeywords are JSON Schema keywords that a case-insensitive reader could confuse.
var schemaKeywords = []string{
	"$schema", "$id", "$ref", "$defs", "$dynamicRef", "$anchor", "$comment", "type", "title", "description",
	"properties", "required", "items", "prefixItems", "additionalProperties", "patternProperties",
	"enum", "const", "default", "examples", "format", "pattern", "minimum", "maximum",
	"exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
	"uniqueItems", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "definitions",
	"dependentSchemas", "dependentRequired", "contains", "propertyNames", "readOnly", "writeOnly",
	"deprecated", "contentEncoding", "contentMediaType", "unevaluatedProperties", "unevaluatedItems",
	"additionalItems", "multipleOf", "minProperties", "maxProperties",
}

// Members whose value maps names to schemas (keys are user data, not keywords).
var schemaNameMaps = map[string]bool{
	"properties": true, "patternProperties": true, "$defs": true, "definitions": true, "dependentSchemas": true,
}

// Members whose value is data, not schema.
var schemaData = map[string]bool{"default": true, "examples": true, "const": true, "enum": true}

func validateTool(v *Value, ptr string) error {
	if v.Kind != Object {
		return invalid(v, ptr, "a tool is a JSON object, got %s", v.Kind)
	}
	known := make([]string, 0, len(toolFields))
	for k := range toolFields {
		known = append(known, k)
	}
	if err := checkCaseVariants(v, ptr, known); err != nil {
		return err
	}
	name := v.Get("name")
	if name == nil {
		return invalid(v, ptr, "tool has no \"name\"")
	}
	for _, m := range v.Members {
		want, ok := toolFields[m.Key]
		if ok && m.Value.Kind != want {
			return invalid(m.Value, ptr+"/"+pointerEscape(m.Key), "%q must be a JSON %s, got %s", m.Key, want, m.Value.Kind)
		}
	}
	if name.Str == "" {
		return invalid(name, ptr+"/name", "tool name is empty")
	}
	if a := v.Get("annotations"); a != nil {
		if err := checkCaseVariants(a, ptr+"/annotations", annotationFields); err != nil {
			return err
		}
	}
	for _, key := range []string{"inputSchema", "outputSchema"} {
		if s := v.Get(key); s != nil {
			if err := checkSchema(s, ptr+"/"+key, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCaseVariants rejects two members of obj whose names differ only in case when one of
// them is a known field: readers that match names case-insensitively would pick either.
func checkCaseVariants(obj *Value, ptr string, known []string) error {
	if obj.Kind != Object || len(obj.Members) < 2 {
		return nil
	}
	for i, a := range obj.Members {
		for _, b := range obj.Members[i+1:] {
			if a.Key == b.Key || !strings.EqualFold(a.Key, b.Key) {
				continue
			}
			for _, k := range known {
				if strings.EqualFold(k, a.Key) {
					return invalid(b.Value, ptr+"/"+pointerEscape(b.Key),
						"case-variant duplicate of %q: members %q and %q", k, a.Key, b.Key)
				}
			}
		}
	}
	return nil
}

// checkSchema walks a JSON Schema: non-local references and case-variant keywords are
// rejected. nameMap is true when v maps property names to schemas.
func checkSchema(v *Value, ptr string, nameMap bool) error {
	switch v.Kind {
	case Array:
		for i, e := range v.Elems {
			if err := checkSchema(e, fmt.Sprintf("%s/%d", ptr, i), false); err != nil {
				return err
			}
		}
		return nil
	case Object:
	default:
		return nil
	}
	if !nameMap {
		if err := checkCaseVariants(v, ptr, schemaKeywords); err != nil {
			return err
		}
		for _, key := range []string{"$ref", "$dynamicRef"} {
			if r := v.Get(key); r != nil && r.Kind == String && !strings.HasPrefix(r.Str, "#") {
				return invalid(r, ptr+"/"+pointerEscape(key), "non-local %s %q: a tool's schema must be self-contained", key, r.Str)
			}
		}
	}
	for _, m := range v.Members {
		if !nameMap && schemaData[m.Key] {
			continue
		}
		child := ptr + "/" + pointerEscape(m.Key)
		if err := checkSchema(m.Value, child, !nameMap && schemaNameMaps[m.Key]); err != nil {
			return err
		}
	}
	return nil
}
