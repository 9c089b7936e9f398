package registry

// StatusReason is the public class of why a version left the published state. It is what
// the read API tells mirrors in the official statusMessage; the reviewer's own words stay
// in the audit chain and are never served.
type StatusReason string

// The reason classes. The empty class means "no class recorded": the message then follows
// the status alone.
const (
	ReasonNone StatusReason = ""
	// ReasonReview: a reviewer quarantined the version.
	ReasonReview StatusReason = "review"
	// ReasonVulnerability: a re-scan against a newer vulnerability snapshot fails the policy.
	ReasonVulnerability StatusReason = "vulnerability"
	// ReasonUpstreamDeleted: the upstream registry a mirror curates from deleted the version.
	ReasonUpstreamDeleted StatusReason = "upstream-deleted"
	// ReasonAdmin: an administrator changed the status through the status API.
	ReasonAdmin StatusReason = "admin"
)

// Valid reports whether r is a known class (the empty class included).
func (r StatusReason) Valid() bool {
	switch r {
	case ReasonNone, ReasonReview, ReasonVulnerability, ReasonUpstreamDeleted, ReasonAdmin:
		return true
	}
	return false
}

// ListedStatuses are the statuses a read with include_deleted=true shows: every version
// that was once served. Versions that never were (pending review, rejected) are never shown.
var ListedStatuses = []Status{StatusPublished, StatusDeprecated, StatusQuarantined, StatusDeleted}

// Official status values of the official registry's _meta (model.Status).
const (
	OfficialActive     = "active"
	OfficialDeprecated = "deprecated"
	OfficialDeleted    = "deleted"
)

// OfficialStatus maps a status onto the official registry's vocabulary, and says whether a
// version in it may be shown at all. A quarantined version reads as deleted: for a mirror it
// must stop being served, which is what deleted means there.
func OfficialStatus(s Status) (string, bool) {
	switch s {
	case StatusPublished:
		return OfficialActive, true
	case StatusDeprecated:
		return OfficialDeprecated, true
	case StatusQuarantined, StatusDeleted:
		return OfficialDeleted, true
	}
	return "", false
}

// StatusMessage is the public statusMessage for a version in status s for reason r: the
// class, never a reviewer's text. Empty for a published version.
func StatusMessage(s Status, r StatusReason) string {
	switch s {
	case StatusPublished:
		return ""
	case StatusQuarantined:
		switch r {
		case ReasonReview:
			return "quarantined: withdrawn by the registry's security review"
		case ReasonVulnerability:
			return "quarantined: a re-scan found vulnerabilities that fail the registry's policy"
		case ReasonUpstreamDeleted:
			return "quarantined: deleted by the upstream registry, pending review"
		case ReasonAdmin:
			return "quarantined: withdrawn by a registry administrator"
		}
		return "quarantined: withdrawn by the registry pending review"
	case StatusDeprecated:
		return "deprecated"
	case StatusDeleted:
		if r == ReasonUpstreamDeleted {
			return "deleted by the upstream registry"
		}
		return "deleted"
	}
	return ""
}
