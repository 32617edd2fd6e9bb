// Package configtxgen reads Fabric configtx.yaml files and turns one profile
// into a channelconfig.Profile, from which an application channel's genesis
// block is built (channel-participation style: no system channel). It also
// renders blocks as JSON with their nested messages decoded, like Fabric's
// configtxgen -inspectBlock.
package configtxgen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"weft/channelconfig"
)

// ConfigFileNames are the names tried, in order, inside the config directory.
var ConfigFileNames = []string{"configtx.yaml", "configtx.yml"}

// ErrUnknownProfile is returned (wrapped) when the profile is not in the file.
var ErrUnknownProfile = errors.New("unknown profile")

// File is a parsed configtx.yaml, still holding raw YAML data.
type File struct {
	// Path of the file that was read; relative paths inside it are resolved
	// against its directory.
	Path     string
	top      obj
	profiles map[string]any
}

// FindConfigFile locates configtx.yaml in configDir, or in $FABRIC_CFG_PATH
// when configDir is empty, as configtxgen's -configPath does.
func FindConfigFile(configDir string) (string, error) {
	if configDir == "" {
		configDir = os.Getenv("FABRIC_CFG_PATH")
		if configDir == "" {
			return "", errors.New("no config directory: give -configPath or set FABRIC_CFG_PATH")
		}
	}
	for _, name := range ConfigFileNames {
		p := filepath.Join(configDir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("config directory %s: no %s found", configDir, strings.Join(ConfigFileNames, " or "))
}

// ReadFile parses a configtx.yaml file and checks its top-level keys.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseFile(path, data)
}

func parseFile(path string, data []byte) (*File, error) {
	var root any
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", path, err)
	}
	top, err := newObj("", root, topLevelKeys...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &File{Path: path, top: top}
	if top.has("Profiles") {
		if f.profiles, err = stringKeyed("Profiles", top.m["Profiles"]); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return f, nil
}

// ProfileNames lists the profiles defined in the file, sorted.
func (f *File) ProfileNames() []string {
	names := make([]string, 0, len(f.profiles))
	for n := range f.profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f *File) parseProfile(name string) (*fileProfile, error) {
	raw, ok := f.profiles[name]
	if !ok {
		known := f.ProfileNames()
		if len(known) == 0 {
			return nil, fmt.Errorf("%w %q: %s defines no Profiles", ErrUnknownProfile, name, f.Path)
		}
		return nil, fmt.Errorf("%w %q: %s defines %s", ErrUnknownProfile, name, f.Path, strings.Join(known, ", "))
	}
	fp, err := parseProfile(join("Profiles", name), raw, filepath.Dir(f.Path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return fp, nil
}

// Profile parses the named profile, reads every MSP directory and TLS
// certificate it refers to, and returns the result ready for
// channelconfig.NewChannelGroup.
func (f *File) Profile(name string) (*channelconfig.Profile, error) {
	fp, err := f.parseProfile(name)
	if err != nil {
		return nil, err
	}
	return materialize(fp)
}

// Load reads configtx.yaml from configDir (or $FABRIC_CFG_PATH when empty)
// and returns the named profile with all referenced files loaded.
func Load(configDir, profile string) (*channelconfig.Profile, error) {
	if profile == "" {
		return nil, errors.New("no profile given")
	}
	path, err := FindConfigFile(configDir)
	if err != nil {
		return nil, err
	}
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return f.Profile(profile)
}

// isNotExist reports a missing file or directory in an error chain.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
