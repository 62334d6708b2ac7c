package config

import (
	"flag"
	"fmt"
	"strconv"
	"time"
)

// Typed flags whose errors say what was wrong in words an operator reads
// next to the variable's name: `not a whole number: "x"`.

// value is the flag.Value of one of the typed flags. Its zero value (no p)
// prints as T's zero, as flag.PrintDefaults expects.
type value[T int | int64 | time.Duration | bool] struct{ p *T }

func (v value[T]) String() string {
	var x T
	if v.p != nil {
		x = *v.p
	}
	switch x := any(x).(type) {
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Duration:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	panic("unreachable")
}

func (v value[T]) Set(s string) error {
	var (
		x    any
		err  error
		want string
	)
	switch any(*v.p).(type) {
	case int:
		x, err = strconv.Atoi(s)
		want = "a whole number"
	case int64:
		x, err = strconv.ParseInt(s, 10, 64)
		want = "a whole number"
	case time.Duration:
		x, err = time.ParseDuration(s)
		want = "a duration such as 30s, 5m or 24h"
	case bool:
		x, err = strconv.ParseBool(s)
		want = "true or false"
	}
	if err != nil {
		return fmt.Errorf("not %s: %q", want, s)
	}
	*v.p = x.(T)
	return nil
}

// IsBoolFlag lets a boolean flag stand alone (-flag for -flag=true).
func (v value[T]) IsBoolFlag() bool {
	_, ok := any(*new(T)).(bool)
	return ok
}

// declare sets *p to def and declares the flag name on fs.
func declare[T int | int64 | time.Duration | bool](fs *flag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	fs.Var(value[T]{p}, name, usage)
}

// Int declares an int flag (and so its TIA_* variable) with value def.
func Int(fs *flag.FlagSet, p *int, name string, def int, usage string) {
	declare(fs, p, name, def, usage)
}

// Int64 declares an int64 flag with value def.
func Int64(fs *flag.FlagSet, p *int64, name string, def int64, usage string) {
	declare(fs, p, name, def, usage)
}

// Duration declares a duration flag (Go syntax: 30s, 5m, 24h) with value def.
func Duration(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	declare(fs, p, name, def, usage)
}

// Bool declares a boolean flag with value def.
func Bool(fs *flag.FlagSet, p *bool, name string, def bool, usage string) {
	declare(fs, p, name, def, usage)
}

// Positive returns an error naming flag's variable unless n > 0.
func Positive[N int | int64 | time.Duration](flagName string, n N) error {
	if n <= 0 {
		return fmt.Errorf("%s: must be more than 0, got %v", EnvVar(flagName), n)
	}
	return nil
}

// PositiveOr returns n when it is more than 0, else def: the rule of an
// option or a config field whose zero (or a negative) means "the default".
func PositiveOr[N int | int64 | time.Duration](n, def N) N {
	if n > 0 {
		return n
	}
	return def
}
