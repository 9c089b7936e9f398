package intoto

import (
	"encoding/json"
	"fmt"
)

// CheckSBOM checks that an SBOM predicate is the document its type says: an SPDX document
// with an spdxVersion, or a CycloneDX BOM with bomFormat "CycloneDX".
func CheckSBOM(predicateType string, predicate []byte) error {
	if err := CheckStrictJSON(predicate); err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	var head struct {
		SPDXVersion string `json:"spdxVersion"`
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
	}
	if err := json.Unmarshal(predicate, &head); err != nil {
		return fmt.Errorf("sbom: %w: %w", ErrMalformed, err)
	}
	switch predicateType {
	case PredicateSPDX:
		if head.SPDXVersion == "" {
			return fmt.Errorf("sbom: %w: SPDX predicate has no spdxVersion", ErrMalformed)
		}
	case PredicateCycloneDX:
		if head.BOMFormat != "CycloneDX" || head.SpecVersion == "" {
			return fmt.Errorf("sbom: %w: CycloneDX predicate needs bomFormat \"CycloneDX\" and a specVersion", ErrMalformed)
		}
	default:
		return fmt.Errorf("sbom: %w: %q is not an SBOM predicate type", ErrMalformed, predicateType)
	}
	return nil
}
