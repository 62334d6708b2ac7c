package config

import (
	"flag"
	"fmt"
	"strconv"
	"time"
)

// Typed flags whose errors say what was wrong in words an operator reads
// next to the variable's name: `not a whole number: "x"`.

type intValue struct{ p *int }

func (v intValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not a whole number: %q", s)
	}
	*v.p = n
	return nil
}

type int64Value struct{ p *int64 }

func (v int64Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(*v.p, 10)
}

func (v int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not a whole number: %q", s)
	}
	*v.p = n
	return nil
}

type durationValue struct{ p *time.Duration }

func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration such as 30s, 5m or 24h: %q", s)
	}
	*v.p = d
	return nil
}

type boolValue struct{ p *bool }

func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("not true or false: %q", s)
	}
	*v.p = b
	return nil
}

func (boolValue) IsBoolFlag() bool { return true }

// Int declares an int flag (and so its TIA_* variable) with value def.
func Int(fs *flag.FlagSet, p *int, name string, def int, usage string) {
	*p = def
	fs.Var(intValue{p}, name, usage)
}

// Int64 declares an int64 flag with value def.
func Int64(fs *flag.FlagSet, p *int64, name string, def int64, usage string) {
	*p = def
	fs.Var(int64Value{p}, name, usage)
}

// Duration declares a duration flag (Go syntax: 30s, 5m, 24h) with value def.
func Duration(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(durationValue{p}, name, usage)
}

// Bool declares a boolean flag with value def.
func Bool(fs *flag.FlagSet, p *bool, name string, def bool, usage string) {
	*p = def
	fs.Var(boolValue{p}, name, usage)
}

// Positive returns an error naming flag's variable unless n > 0.
func Positive[N int | int64 | time.Duration](flagName string, n N) error {
	if n <= 0 {
		return fmt.Errorf("%s: must be more than 0, got %v", EnvVar(flagName), n)
	}
	return nil
}
