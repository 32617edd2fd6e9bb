package statedb

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

var jsonTypes = map[string]bool{"null": true, "boolean": true, "number": true, "string": true, "array": true, "object": true}

// compileOp compiles one field operator and validates its argument.
func compileOp(op string, arg any) (matcher, error) {
	switch op {
	case "$eq":
		return eqOp{arg}, nil
	case "$ne":
		return neOp{arg}, nil
	case "$gt", "$gte", "$lt", "$lte":
		return cmpOp{op: op, arg: arg}, nil
	case "$in", "$nin", "$all":
		arr, ok := arg.([]any)
		if !ok {
			return nil, fmt.Errorf("operator %s: argument must be an array, got %s", op, typeName(arg))
		}
		switch op {
		case "$in":
			return inOp{arr}, nil
		case "$nin":
			return ninOp{arr}, nil
		}
		return allOp{arr}, nil
	case "$exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("operator $exists: argument must be a boolean, got %s", typeName(arg))
		}
		return existsOp{b}, nil
	case "$type":
		s, ok := arg.(string)
		if !ok || !jsonTypes[s] {
			return nil, fmt.Errorf("operator $type: argument must be one of null, boolean, number, string, array, object")
		}
		return typeOp{s}, nil
	case "$regex":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("operator $regex: argument must be a string, got %s", typeName(arg))
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("operator $regex: %w", err)
		}
		return regexOp{re}, nil
	case "$size":
		n, err := parseCount(arg)
		if err != nil {
			return nil, fmt.Errorf("operator $size: argument %w", err)
		}
		return sizeOp{n}, nil
	case "$mod":
		arr, ok := arg.([]any)
		var d, r int64
		var err1, err2 error
		if ok && len(arr) == 2 {
			d, err1 = asInt(arr[0])
			r, err2 = asInt(arr[1])
		}
		if !ok || len(arr) != 2 || err1 != nil || err2 != nil || d == 0 {
			return nil, errors.New("operator $mod: argument must be [divisor, remainder], integers, divisor not 0")
		}
		return modOp{d, r}, nil
	case "$elemMatch", "$allMatch":
		m, ok := arg.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("operator %s: argument must be an object, got %s", op, typeName(arg))
		}
		c, err := compileObject(m, nil)
		if err != nil {
			return nil, fmt.Errorf("operator %s: %w", op, err)
		}
		return elemMatchOp{c: c, all: op == "$allMatch"}, nil
	case "$and", "$or", "$nor", "$not":
		// Reached only through a bug in compileObject; kept as an error so
		// no input can make it panic.
		return nil, fmt.Errorf("operator %s: not valid here", op)
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

func asInt(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	return strconv.ParseInt(string(n), 10, 64)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
