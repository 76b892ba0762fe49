package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// ResourceError is one resource's failure in Apply. Other resources go on.
type ResourceError struct {
	Key        ResourceKey
	SourcePath string
	Op         string // register, update-service, deregister, ...
	Err        error
}

func (e *ResourceError) Error() string {
	prefix := e.Key.Kind.Noun() + " " + e.Key.Name
	if e.SourcePath != "" {
		prefix = e.SourcePath + ": " + prefix
	}
	return fmt.Sprintf("%s: %s: %v", prefix, e.Op, e.Err)
}

func (e *ResourceError) Unwrap() error { return e.Err }

// Retryable reports whether running again may succeed without a change in Git: ECS
// throttled past the SDK's retries, a server error, or a timeout. Client errors (an
// invalid definition, a missing service) need a person.
func (e *ResourceError) Retryable() bool { return Retryable(e.Err) }

// Retryable classifies an ECS error; see ResourceError.Retryable.
func Retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottlingException", "ServerException", "ServiceUnavailableException", "RequestLimitExceeded":
			return true
		}
		return ae.ErrorFault() == smithy.FaultServer
	}
	return false
}

// errNoRawBody means the client did not run reconcile's APIOptions middleware.
var errNoRawBody = errors.New("the ECS client returned no raw response body: reconcile needs the SDK client (*ecs.Client), which runs ecs.Options.APIOptions")

// isNotFound reports ECS's answer for a family or revision that does not exist:
// ClientException "Unable to describe task definition." (ECS has no dedicated code).
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ClientException"
}
