package main

import (
	"github.com/vetted-dev/vetted/api"
)

func init() { addConfigSection("cors") }

// corsConfig is the `cors:` section of vetted.yaml: which other origins browsers may read
// the API from. Without it, any origin may make anonymous reads (GET/HEAD of the read API,
// version, health, ping), as upstream allows, and no origin may make authenticated or
// state-changing requests.
//
//	cors:
//	  allowed_origins: ["*"]                          # anonymous reads; [] closes them
//	  credentialed_origins: [https://console.acme.example]  # may send credentials, any method
type corsConfig struct {
	AllowedOrigins      *[]string `json:"allowed_origins,omitempty"`
	CredentialedOrigins []string  `json:"credentialed_origins,omitempty"`
}

// serveCORS returns the API option of the cors section.
func serveCORS(c *serveConfig) ([]api.Option, error) {
	if c.File == nil {
		return nil, nil
	}
	var cc corsConfig
	if err := c.File.Section("cors", &cc); err != nil {
		return nil, usageErrorf("%v", err)
	}
	cfg := api.DefaultCORS()
	if cc.AllowedOrigins != nil {
		cfg.AllowedOrigins = *cc.AllowedOrigins
	}
	cfg.CredentialedOrigins = cc.CredentialedOrigins
	if err := cfg.Validate(); err != nil {
		return nil, usageErrorf("config file %s: %v", c.File.path, err)
	}
	return []api.Option{api.WithCORS(cfg)}, nil
}
