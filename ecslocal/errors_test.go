package ecslocal

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// TestTypedErrors checks that each error type ecslocal sends reaches SDK callers as the
// SDK's typed error.
func TestTypedErrors(t *testing.T) {
	c := client(start(t))
	_, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("missing")})
	var ce *types.ClientException
	if !errors.As(err, &ce) || aws.ToString(ce.Message) != "Unable to describe task definition." {
		t.Errorf("ClientException: %v", err)
	}
	_, err = c.ListServices(ctx(t), &ecs.ListServicesInput{Cluster: aws.String("nope")})
	var cnf *types.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("ClusterNotFoundException: %v", err)
	}
	if _, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateService(ctx(t), &ecs.UpdateServiceInput{Service: aws.String("ghost")})
	var snf *types.ServiceNotFoundException
	if !errors.As(err, &snf) {
		t.Errorf("ServiceNotFoundException: %v", err)
	}
	_, err = c.ListClusters(ctx(t), &ecs.ListClustersInput{MaxResults: aws.Int32(0)})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("InvalidParameterException: %v", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidParameterException" || api.ErrorFault() != smithy.FaultClient {
		t.Errorf("APIError: %v", err)
	}
}

// The SDK strips a "namespace#" prefix from __type (smithy-go awsjson
// SanitizeErrorCode), so ECS may send either form; ecslocal sends the plain name.
func TestSDKAcceptsNamespacedErrorType(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.ecs#ClientException","message":"namespaced"}`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	c := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	_, err := c.ListClusters(t.Context(), &ecs.ListClustersInput{})
	var ce *types.ClientException
	if !errors.As(err, &ce) || aws.ToString(ce.Message) != "namespaced" {
		t.Errorf("err = %v, want ClientException", err)
	}
}
