package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// Configuration of `vetted serve` comes from, in order of precedence: command-line flags,
// environment variables VETTED_<FLAG> (flag name upper-cased, '-' → '_', e.g.
// VETTED_DATA_DIR), the YAML file given by --config (default vetted.yaml, optional unless
// named explicitly), then the flag defaults.
//
// Every flag of the command is also a top-level key of the file, spelled like the flag
// (addr, data-dir, database, log-format, log-level, …). Structured sections (auth, policies,
// osv, …) are top-level keys too: a command file declares its section with
// addConfigSection in an init function and decodes it with configFile.Section. Any other
// top-level key is an error, so that a typo never silently weakens the configuration.

// defaultConfigPath is where --config points by default.
const defaultConfigPath = "vetted.yaml"

// configSections are the structured top-level sections of vetted.yaml, by name.
var configSections = map[string]bool{}

// addConfigSection declares a structured top-level section of vetted.yaml. Call it from an
// init function of the file that decodes the section.
func addConfigSection(name string) { configSections[name] = true }

// configFile is a parsed vetted.yaml.
type configFile struct {
	path string
	top  map[string]json.RawMessage
}

// envName is the environment variable for a flag: VETTED_ + upper-cased name, '-' → '_'.
func envName(flag string) string {
	return "VETTED_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// loadConfigFile reads path. When the file does not exist it returns an empty configuration,
// unless required (the path was given explicitly), when it is an error.
func loadConfigFile(path string, required bool) (*configFile, error) {
	f := &configFile{path: path, top: map[string]json.RawMessage{}}
	if path == "" {
		return f, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if t := bytes.TrimSpace(j); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return f, nil
	}
	if err := json.Unmarshal(j, &f.top); err != nil {
		return nil, fmt.Errorf("config file %s: the top level must be a mapping of settings: %w", path, err)
	}
	return f, nil
}

// Section decodes the top-level section name into v (a pointer to a struct), rejecting
// unknown keys. A missing section leaves v unchanged.
func (f *configFile) Section(name string, v any) error {
	raw, ok := f.top[name]
	if !ok {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config file %s: section %s: %w", f.path, name, err)
	}
	return nil
}

// applyConfig fills every flag of cmd that was not given on the command line from the
// environment, else from the file, and rejects unknown top-level keys of the file.
func applyConfig(cmd *cobra.Command, e *env, f *configFile) error {
	flags := cmd.Flags()
	var unknown []string
	for key := range f.top {
		if flags.Lookup(key) == nil && !configSections[key] {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file %s: unknown setting(s) %s", f.path, strings.Join(unknown, ", "))
	}
	var err error
	flags.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" || fl.Name == "config" {
			return
		}
		if v := e.getenv(envName(fl.Name)); v != "" {
			if serr := fl.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s: %w", envName(fl.Name), serr)
			}
			return
		}
		raw, ok := f.top[fl.Name]
		if !ok {
			return
		}
		v, serr := scalar(raw)
		if serr == nil {
			serr = fl.Value.Set(v)
		}
		if serr != nil {
			err = fmt.Errorf("config file %s: %s: %w", f.path, fl.Name, serr)
		}
	})
	return err
}

// scalar returns a JSON scalar as flag text: strings unquoted, numbers and booleans as
// written.
func scalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' || bytes.Equal(raw, []byte("null")) {
		return "", errors.New("must be a single value")
	}
	return string(raw), nil
}
