// Package envconfig overrides node configuration from environment
// variables named the way Fabric's viper setup names them, so that
// deployments written for Fabric (ORDERER_GENERAL_LISTENPORT,
// CORE_PEER_TLS_ENABLED, ...) keep working.
package envconfig

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Apply overrides leaf fields from variables named
// PREFIX_<SECTION>_<KEY> in upper case, e.g. ORDERER_GENERAL_LISTENPORT or
// ORDERER_GENERAL_TLS_ENABLED, as Fabric's viper setup does. Lists take
// comma-separated values, optionally in [brackets].
func Apply(cfg any, prefix string, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, prefix+"_") {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	return walkEnv(reflect.ValueOf(cfg).Elem(), prefix, vars)
}

func walkEnv(v reflect.Value, name string, vars map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		// The key is the YAML name without its options (",omitempty").
		yamlName, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		key := name + "_" + strings.ToUpper(yamlName)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := walkEnv(fv, key, vars); err != nil {
				return err
			}
			continue
		}
		raw, ok := vars[key]
		if !ok {
			continue
		}
		if err := setFromString(fv, raw); err != nil {
			return fmt.Errorf("environment %s=%q: %w", key, raw, err)
		}
	}
	return nil
}

func setFromString(v reflect.Value, raw string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeOf(time.Duration(0)) {
			d, err := time.ParseDuration(raw)
			if err != nil {
				return err
			}
			v.SetInt(int64(d))
			return nil
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		v.SetInt(n)
	case reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an unsigned integer")
		}
		v.SetUint(n)
	case reflect.Slice:
		s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(raw), "["), "]")
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}
