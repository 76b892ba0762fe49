package webhook

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadSecret returns a secret from file when file is set, else from the environment
// variable env. One trailing newline is trimmed (files written by `echo` or Kubernetes
// secrets mounted from a literal end with one). An empty secret is an error: a receiver
// without one would accept nothing, and a publisher without a token nothing either.
func ReadSecret(file, env string) ([]byte, error) {
	var s string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		s = string(b)
	case env != "":
		s = os.Getenv(env)
	default:
		return nil, errors.New("no secret file or environment variable given")
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	if s == "" {
		if file != "" {
			return nil, fmt.Errorf("secret file %s is empty", file)
		}
		return nil, fmt.Errorf("environment variable %s is empty or unset", env)
	}
	return []byte(s), nil
}
