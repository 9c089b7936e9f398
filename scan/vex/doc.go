// Package vex applies OpenVEX statements to findings: a statement names a product (the image
// digest, or the server's name and version), a vulnerability (any id of the finding's alias
// group) and optionally subcomponents (package purls). not_affected (with a justification or an
// impact statement) and fixed suppress a finding; under_investigation and affected are attached
// without suppressing it. A statement may carry an expiry ("expires", an extension to OpenVEX);
// an expired statement no longer applies. When several statements apply, the latest wins.
//
// It is cut apart from matching because exceptions are policy, decided by people, and change
// on a different clock than the OSV data.
package vex
