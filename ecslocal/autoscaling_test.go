package ecslocal

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// autoScalingClient is the real SDK Application Auto Scaling client pointed at r.
func autoScalingClient(r *Running) *applicationautoscaling.Client {
	return applicationautoscaling.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     fastRetryer,
	}, func(o *applicationautoscaling.Options) { o.BaseEndpoint = aws.String(r.URL) })
}

func ecsTarget(cluster, service string) *applicationautoscaling.RegisterScalableTargetInput {
	return &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/" + cluster + "/" + service), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(4)}
}

// TestScalableTargets: Application Auto Scaling over its own wire protocol (AWS JSON 1.1,
// AnyScaleFrontendService), through the real SDK: register, describe (filtered and
// paginated), deregister, and the service's error types.
func TestScalableTargets(t *testing.T) {
	r := start(t)
	c, aas := client(r), autoScalingClient(r)
	createCluster(t, c, "prod")
	register(t, c, minimalTD("web"))
	var ids []string
	for i := range 3 {
		name := fmt.Sprintf("web%d", i)
		createService(t, c, "prod", name, "web", 1)
		if _, err := aas.RegisterScalableTarget(ctx(t), ecsTarget("prod", name)); err != nil {
			t.Fatalf("RegisterScalableTarget %s: %v", name, err)
		}
		ids = append(ids, "service/prod/"+name)
	}

	// Paginated: 3 targets, 2 a page.
	var got []string
	p := applicationautoscaling.NewDescribeScalableTargetsPaginator(aas, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, st := range out.ScalableTargets {
			if st.MinCapacity == nil || *st.MinCapacity != 1 || *st.MaxCapacity != 4 || st.ScalableDimension != aastypes.ScalableDimensionECSServiceDesiredCount || st.CreationTime == nil {
				t.Errorf("target %+v", st)
			}
			got = append(got, aws.ToString(st.ResourceId))
		}
	}
	if pages != 2 || strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("described %v in %d pages, want %v in 2", got, pages, ids)
	}
	// Filtered by resource ID.
	out, err := aas.DescribeScalableTargets(ctx(t), &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{ids[1], "service/prod/none"},
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})
	if err != nil || len(out.ScalableTargets) != 1 || aws.ToString(out.ScalableTargets[0].ResourceId) != ids[1] {
		t.Errorf("filtered describe: %v %+v", err, out)
	}
	// Deregistered targets are gone; deregistering twice is ObjectNotFoundException.
	del := &applicationautoscaling.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String(ids[0]), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}
	if _, err := aas.DeregisterScalableTarget(ctx(t), del); err != nil {
		t.Fatal(err)
	}
	var onf *aastypes.ObjectNotFoundException
	if _, err := aas.DeregisterScalableTarget(ctx(t), del); !errors.As(err, &onf) {
		t.Errorf("deregister twice: %v, want ObjectNotFoundException", err)
	}
	out, err = aas.DescribeScalableTargets(ctx(t), &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})
	if err != nil || len(out.ScalableTargets) != 2 {
		t.Errorf("after deregister: %v %+v", err, out)
	}

	tooMany := make([]string, 51)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("service/prod/s%d", i)
	}
	for name, call := range map[string]func() error{
		"bad namespace": func() error {
			_, err := aas.DescribeScalableTargets(ctx(t), &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: "ecss"})
			return err
		},
		"51 resource IDs": func() error {
			_, err := aas.DescribeScalableTargets(ctx(t), &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: tooMany})
			return err
		},
		"MaxResults 51": func() error {
			_, err := aas.DescribeScalableTargets(ctx(t), &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, MaxResults: aws.Int32(51)})
			return err
		},
		"no such service": func() error {
			_, err := aas.RegisterScalableTarget(ctx(t), ecsTarget("prod", "ghost"))
			return err
		},
		"bad resource ID": func() error {
			in := ecsTarget("prod", "web1")
			in.ResourceId = aws.String("prod/web1")
			_, err := aas.RegisterScalableTarget(ctx(t), in)
			return err
		},
		"max below min": func() error {
			in := ecsTarget("prod", "web1")
			in.MaxCapacity = aws.Int32(0)
			_, err := aas.RegisterScalableTarget(ctx(t), in)
			return err
		},
	} {
		var ve *aastypes.ValidationException
		if err := call(); !errors.As(err, &ve) {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
	var bad *aastypes.InvalidNextTokenException
	if _, err := aas.DescribeScalableTargets(ctx(t), &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, NextToken: aws.String("nope")}); !errors.As(err, &bad) {
		t.Errorf("bad token: %v, want InvalidNextTokenException", err)
	}
	// Still AWS JSON 1.1: an unknown action of the namespace is UnknownOperationException.
	req, _ := http.NewRequest(http.MethodPost, r.URL, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", autoScalingPrefix+"PutScalingPolicy")
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsupported action: status %d", resp.StatusCode)
	}
}
