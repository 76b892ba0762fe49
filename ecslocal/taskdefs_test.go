package ecslocal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestRegisterNumbersRevisionsPerFamily(t *testing.T) {
	c := client(start(t))
	for i, tc := range []struct{ family, arn string }{
		{"web", "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"},
		{"web", "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2"},
		{"worker", "arn:aws:ecs:us-east-1:000000000000:task-definition/worker:1"},
		{"web", "arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"},
	} {
		td := register(t, c, minimalTD(tc.family))
		if got := aws.ToString(td.TaskDefinitionArn); got != tc.arn {
			t.Errorf("registration %d: arn = %s, want %s", i, got, tc.arn)
		}
		if td.Status != types.TaskDefinitionStatusActive {
			t.Errorf("registration %d: status = %s", i, td.Status)
		}
		if got := aws.ToString(td.RegisteredBy); got != "arn:aws:iam::000000000000:root" {
			t.Errorf("registeredBy = %s", got)
		}
		if td.RegisteredAt == nil || !td.RegisteredAt.Equal(fixedClock()) {
			t.Errorf("registeredAt = %v, want %v", td.RegisteredAt, fixedClock())
		}
	}
}

func TestRegionAndAccountInARN(t *testing.T) {
	c := client(start(t, WithRegion("eu-north-1"), WithAccount("123456789012")))
	td := register(t, c, minimalTD("web"))
	if got, want := aws.ToString(td.TaskDefinitionArn), "arn:aws:ecs:eu-north-1:123456789012:task-definition/web:1"; got != want {
		t.Errorf("arn = %s, want %s", got, want)
	}
}

func TestDescribeByFamilyRevisionAndARN(t *testing.T) {
	c := client(start(t))
	first := register(t, c, minimalTD("web"))
	second := register(t, c, minimalTD("web"))
	for ref, want := range map[string]int32{
		"web":                                  2,
		"web:1":                                1,
		"web:2":                                2,
		aws.ToString(first.TaskDefinitionArn):  1,
		aws.ToString(second.TaskDefinitionArn): 2,
	} {
		out, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
		if err != nil {
			t.Fatalf("describe %s: %v", ref, err)
		}
		if out.TaskDefinition.Revision != want {
			t.Errorf("describe %s: revision %d, want %d", ref, out.TaskDefinition.Revision, want)
		}
		if out.Tags != nil {
			t.Errorf("describe %s without include TAGS returned tags %v", ref, out.Tags)
		}
	}
	for _, ref := range []string{"nope", "web:3", "arn:aws:ecs:us-west-2:000000000000:task-definition/web:1"} {
		_, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
		var ce *types.ClientException
		if !errors.As(err, &ce) {
			t.Errorf("describe %s: err = %v, want ClientException", ref, err)
		}
	}
}

func TestDeregisterFallsBackToLatestActive(t *testing.T) {
	c := client(start(t))
	register(t, c, minimalTD("web"))
	register(t, c, minimalTD("web"))
	out, err := c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:2")})
	if err != nil {
		t.Fatal(err)
	}
	if out.TaskDefinition.Status != types.TaskDefinitionStatusInactive || out.TaskDefinition.DeregisteredAt == nil {
		t.Errorf("deregistered: status %s deregisteredAt %v", out.TaskDefinition.Status, out.TaskDefinition.DeregisteredAt)
	}
	d, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if d.TaskDefinition.Revision != 1 {
		t.Errorf("latest ACTIVE after deregistering web:2 = %d, want 1", d.TaskDefinition.Revision)
	}
	// The INACTIVE revision can still be described explicitly.
	d, err = c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:2")})
	if err != nil || d.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Errorf("describe web:2 = %v, %v", d, err)
	}
	// Without a revision, deregister refuses.
	_, err = c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web")})
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("deregister without revision: %v", err)
	}
	// Registering again continues the numbering.
	if td := register(t, c, minimalTD("web")); td.Revision != 3 {
		t.Errorf("next revision = %d, want 3", td.Revision)
	}
}

func TestDeleteTaskDefinitionsOnlyInactive(t *testing.T) {
	c := client(start(t))
	register(t, c, minimalTD("web"))
	register(t, c, minimalTD("web"))
	if _, err := c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:1")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"web:1", "web:2", "web:9"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskDefinitions) != 1 || out.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress {
		t.Errorf("deleted = %+v", out.TaskDefinitions)
	}
	if len(out.Failures) != 2 {
		t.Fatalf("failures = %+v, want 2", out.Failures)
	}
	for _, f := range out.Failures {
		t.Logf("failure: %s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
	}
}

func TestListTaskDefinitionsPaginationAndSort(t *testing.T) {
	c := client(start(t))
	var want []string
	for i := range 7 {
		want = append(want, aws.ToString(register(t, c, minimalTD("api")).TaskDefinitionArn))
		_ = i
	}
	register(t, c, minimalTD("api-worker"))
	register(t, c, minimalTD("zeta"))

	// Page through with maxResults 3: 3 + 3 + 1, then no token.
	var got []string
	var token *string
	pages := 0
	for {
		out, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{
			FamilyPrefix: aws.String("api"), MaxResults: aws.Int32(3), NextToken: token,
		})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.TaskDefinitionArns...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages = %d, arns = %v, want 3 pages of %v", pages, got, want)
	}

	// The SDK paginator agrees.
	p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(2)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.TaskDefinitionArns)
	}
	if n != 9 {
		t.Errorf("paginator saw %d arns, want 9", n)
	}

	out, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc})
	if err != nil {
		t.Fatal(err)
	}
	if first := out.TaskDefinitionArns[0]; first != "arn:aws:ecs:us-east-1:000000000000:task-definition/zeta:1" {
		t.Errorf("DESC first = %s", first)
	}
	if out.TaskDefinitionArns[2] != want[6] {
		t.Errorf("DESC third = %s, want %s", out.TaskDefinitionArns[2], want[6])
	}

	for _, bad := range []int32{0, 101} {
		_, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(bad)})
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) {
			t.Errorf("maxResults %d: err = %v, want InvalidParameterException", bad, err)
		}
	}
	_, err = c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{NextToken: aws.String("garbage")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("bad nextToken: err = %v", err)
	}
}

// ECS treats ListTaskDefinitions' familyPrefix as the full family name, but
// ListTaskDefinitionFamilies' familyPrefix as a prefix (getmoto/moto#2602).
func TestFamilyPrefixSemantics(t *testing.T) {
	c := client(start(t))
	register(t, c, minimalTD("api"))
	register(t, c, minimalTD("api-worker"))
	register(t, c, minimalTD("web"))

	out, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("ap")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskDefinitionArns) != 0 {
		t.Errorf("ListTaskDefinitions familyPrefix=ap: %v, want none (ECS matches the whole family)", out.TaskDefinitionArns)
	}
	out, err = c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskDefinitionArns) != 1 {
		t.Errorf("ListTaskDefinitions familyPrefix=api: %v, want api:1 only", out.TaskDefinitionArns)
	}

	fam, err := c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("ap")})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fam.Families) != "[api api-worker]" {
		t.Errorf("families with prefix ap = %v", fam.Families)
	}

	if _, err := c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:1")}); err != nil {
		t.Fatal(err)
	}
	for status, want := range map[types.TaskDefinitionFamilyStatus]string{
		types.TaskDefinitionFamilyStatusActive:   "[api api-worker]",
		types.TaskDefinitionFamilyStatusInactive: "[web]",
		types.TaskDefinitionFamilyStatusAll:      "[api api-worker web]",
		"":                                       "[api api-worker web]",
	} {
		fam, err := c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{Status: status})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(fam.Families) != want {
			t.Errorf("families status %q = %v, want %s", status, fam.Families, want)
		}
	}
	fam, err = c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(2)})
	if err != nil || len(fam.Families) != 2 || fam.NextToken == nil {
		t.Fatalf("families page 1 = %v, %v", fam, err)
	}
	fam, err = c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(2), NextToken: fam.NextToken})
	if err != nil || fmt.Sprint(fam.Families) != "[web]" || fam.NextToken != nil {
		t.Errorf("families page 2 = %v, %v", fam, err)
	}
}
