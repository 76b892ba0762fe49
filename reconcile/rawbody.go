package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Task definitions cross the SDK as raw JSON, in both directions.
//
// Why: DESIGN.md decision 1 says unknown and newer fields survive every step, and the SDK's
// typed structs drop what their model version does not know. Converting typed structs
// back to JSON with a reflection walker would need the model's special cases (field
// names like FSxWindowsFileServerVolumeConfiguration, timestamps as epoch seconds, enums)
// and would still lose unknown fields. So:
//
//   - responses: a deserialize-step middleware, inside the SDK's deserializer, copies the
//     raw body of a successful response before the SDK decodes it (captureBody). The body
//     of the last attempt wins, which is the one the SDK returns after retries.
//   - RegisterTaskDefinition: the typed input is still built (the SDK validates it and it
//     is the validation view of decision 1), but a serialize-step middleware after the
//     SDK's serializer replaces the request body with the exact JSON (sendBody). Signing
//     and the payload hash happen later, in the finalize step, so they cover our body;
//     the retryer rewinds the bytes.Reader between attempts.
//
// These run only for clients that honour ecs.Options.APIOptions, i.e. *ecs.Client. A
// hand-written fake would not, and reconcile reports that as an error rather than guessing
// (STYLE.md rule 3: tests use the real SDK against ecslocal).

type rawCapture struct{ body []byte }

func captureBody(c *rawCapture) func(*ecs.Options) {
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("taskwardCaptureBody",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if err != nil {
						return out, md, err
					}
					resp, ok := out.RawResponse.(*smithyhttp.Response)
					if !ok || resp.StatusCode < 200 || resp.StatusCode > 299 || resp.Body == nil {
						return out, md, err
					}
					b, rerr := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if rerr != nil {
						return out, md, fmt.Errorf("read response body: %w", rerr)
					}
					c.body = b
					resp.Body = io.NopCloser(bytes.NewReader(b))
					return out, md, nil
				}), middleware.After)
		})
	}
}

func sendBody(body []byte) func(*ecs.Options) {
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Serialize.Add(middleware.SerializeMiddlewareFunc("taskwardSendBody",
				func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
					req, ok := in.Request.(*smithyhttp.Request)
					if !ok {
						return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected transport request %T", in.Request)
					}
					r, err := req.SetStream(bytes.NewReader(body))
					if err != nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("set request body: %w", err)
					}
					in.Request = r
					return next.HandleSerialize(ctx, in)
				}), middleware.After)
		})
	}
}
