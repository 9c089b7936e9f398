// Package pypisbom builds the registry-generated SBOM of verified PyPI distributions and
// MCP bundles with syft as a library: it unpacks, within bounds and without path
// traversal, only the manifests and lock files of a wheel (dist-info METADATA, shipped
// requirements*.txt, uv.lock, poetry.lock, Pipfile.lock, pdm.lock), an sdist (PKG-INFO,
// pyproject.toml and the same lock files) or an .mcpb bundle (node_modules package.json
// files, package-lock.json, Python site-packages dist-info and lock files), catalogs them
// with syft's Python and JavaScript catalogers, and lists the requirements that are ranges
// no shipped lock file pins, so that the registry can judge them (publish.pypi.unpinned).
package pypisbom
