package main

import (
	"errors"
	"fmt"
)

const (
	exitOK          = 0
	exitCheckFailed = 1
	exitUsage       = 2
)

// codedError carries the process exit code for an error.
type codedError struct {
	code   int
	err    error
	silent bool // already reported on stdout/stderr by the command
}

func (e *codedError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *codedError) Unwrap() error { return e.err }

// usageError marks err as a usage or input error (exit 2).
func usageError(err error) error { return &codedError{code: exitUsage, err: err} }

// usageErrorf is usageError(fmt.Errorf(…)).
func usageErrorf(format string, a ...any) error { return usageError(fmt.Errorf(format, a...)) }

// checkFailed marks err as a failed check (exit 1): verification, policy, drift, --fail-on.
func checkFailed(err error) error { return &codedError{code: exitCheckFailed, err: err} }

// checkFailedSilently is a failed check whose details the command already printed.
func checkFailedSilently() error {
	return &codedError{code: exitCheckFailed, err: errors.New("check failed"), silent: true}
}

func isCodedError(err error) bool {
	var ce *codedError
	return errors.As(err, &ce)
}

func isSilent(err error) bool {
	var ce *codedError
	return errors.As(err, &ce) && ce.silent
}

// ExitCode maps an error returned by Run to the process exit code: 0 for nil, the code a
// command marked (usageError: 2, checkFailed: 1), and 1 for any other failure (a network,
// disk or server error), which fails the run without being a usage error.
func ExitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitCheckFailed
}
