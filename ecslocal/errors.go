package ecslocal

import (
	"errors"
	"fmt"
	"net/http"
)

// Error type names as ECS puts them in the "__type" member of an error body. The SDK
// (smithy-go awsjson) strips an optional "namespace#" prefix and a ":suffix" before it
// looks the name up in the ECS type registry, so the plain names below are decoded into
// the typed errors of github.com/aws/aws-sdk-go-v2/service/ecs/types (ClientException,
// InvalidParameterException, ...). Names that are not modelled by ECS (ThrottlingException,
// SerializationException, ...) surface as *smithy.GenericAPIError with that code; the SDK
// retryer recognises ThrottlingException as a throttle and retries it.
const (
	errClient                  = "ClientException"
	errInvalidParameter        = "InvalidParameterException"
	errClusterNotFound         = "ClusterNotFoundException"
	errServiceNotFound         = "ServiceNotFoundException"
	errServiceNotActive        = "ServiceNotActiveException"
	errClusterContainsServices = "ClusterContainsServicesException"
	errClusterContainsTasks    = "ClusterContainsTasksException"
	errResourceNotFound        = "ResourceNotFoundException"
	errThrottling              = "ThrottlingException"
	errServer                  = "ServerException"
	errSerialization           = "SerializationException"
	errUnknownOperation        = "UnknownOperationException"
	errMissingAuth             = "MissingAuthenticationTokenException"
	errIncompleteSignature     = "IncompleteSignatureException"
	errRequestTooLarge         = "RequestEntityTooLargeException"
)

// apiError is an error the server answers with: the ECS error type, the HTTP status and a
// message for the caller.
type apiError struct {
	Type    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// statusFor returns the HTTP status ECS uses for an error type: 500 for ServerException,
// 400 for everything a client caused (including throttling, which AWS JSON services
// answer with 400 and the SDK retries by its code, not by its status).
func statusFor(typ string) int {
	switch typ {
	case errServer:
		return http.StatusInternalServerError
	case errMissingAuth:
		return http.StatusForbidden
	case errRequestTooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}

func newError(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Status: statusFor(typ), Message: fmt.Sprintf(format, args...)}
}

func clientErr(format string, args ...any) *apiError {
	return newError(errClient, format, args...)
}

func invalidParam(format string, args ...any) *apiError {
	return newError(errInvalidParameter, format, args...)
}

// asAPIError turns any handler error into the shape written on the wire. Errors that are
// not apiErrors are bugs or I/O failures (for example persisting state) and become
// ServerException, as ECS reports its own failures.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return newError(errServer, "internal error: %v", err)
}
