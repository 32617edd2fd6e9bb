package channelconfig

import (
	"fmt"
	"strings"
)

// maxIDLength bounds channel IDs and config keys; Fabric derives it from the
// longest name its ledger and file layout can hold.
const maxIDLength = 249

// ValidateChannelID reports whether id is an acceptable channel name:
// [a-z][a-z0-9.-]* and at most 249 characters.
func ValidateChannelID(id string) error {
	if id == "" {
		return fmt.Errorf("channel ID is empty")
	}
	if len(id) > maxIDLength {
		return fmt.Errorf("channel ID %q is longer than %d characters", id, maxIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-')
		if !ok {
			return fmt.Errorf("channel ID %q: character %q at %d not allowed (want [a-z][a-z0-9.-]*)", id, c, i)
		}
	}
	return nil
}

// validateConfigKey checks one group, value or policy key of the config tree.
func validateConfigKey(key string) error {
	if key == "" {
		return fmt.Errorf("key is empty")
	}
	if len(key) > maxIDLength {
		return fmt.Errorf("key %q is longer than %d characters", key, maxIDLength)
	}
	// "." and ".." would make policy paths ambiguous.
	if key == "." || key == ".." {
		return fmt.Errorf("key %q is not allowed", key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("key %q: character %q at %d not allowed (want [a-zA-Z0-9.-]+)", key, c, i)
		}
	}
	return nil
}

// validateModPolicy checks that a mod_policy is a syntactically valid policy
// reference, absolute ("/Channel/Admins") or relative ("Admins", "Org1/Admins").
func validateModPolicy(ref string) error {
	if ref == "" {
		return fmt.Errorf("mod_policy not set")
	}
	for i, part := range strings.Split(strings.TrimPrefix(ref, "/"), "/") {
		if err := validateConfigKey(part); err != nil {
			return fmt.Errorf("mod_policy %q: path element %d: %w", ref, i, err)
		}
	}
	return nil
}
