-- ListQuery.Version (?version=<exact>): find one version string across servers in
-- (name, version) order without walking every version.
CREATE INDEX versions_version_name ON versions (version, name);
